// The verifier of SPEC §4 as one unit main.ts starts and stops: ScimDomain watches feeding the token
// index, the HTTP(S) server, and the upkeep of its TLS material.
//
// It runs as its own workload (`scim-token-operator verifier`) or beside the controllers in one
// process; either way it is never leader-elected. In one process main.ts gives it the ScimDomain
// informers the controllers use (one cache of every domain, not two), and the verifier starts them
// itself, so it never depends on the controllers having started. It reads ScimDomains only — never
// Secrets (SPEC §3).
//
// Fresh or unready (SPEC §4): the index is as current as the oldest of its informers' `lastCurrentAt`
// (a list, a watch event or a bookmark). Past `maxStalenessMs` the verifier fails `/readyz` and
// answers token checks with 503 instead of from what it last knew — a revoked token must never pass
// because a watch went quiet. The informers' watchdog relists long before that bound is reached.
//
// Draining (SPEC §4 "Graceful"): after `beginDrain()` `/readyz` fails so that endpoints and proxies
// move away, while requests are still answered, each with `Connection: close`, until main.ts stops it.

import type { KubeClient } from '../kube/client.js';
import type { ScimDomain } from '../api/types.js';
import { summarizeError } from '../kube/errors.js';
import type { RestartingInformer } from '../kube/informer.js';
import { scimDomainInformers } from '../kube/scim-informers.js';
import { verifierView } from './cached-domain.js';
import type { VerifierOptions } from './verifier-config.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { createVerifierHandler } from './handler.js';
import { startVerifierServer, type VerifierServer } from './server.js';
import {
  SELF_SIGNED_VALIDITY_MS,
  generateSelfSigned,
  loadTlsFiles,
  selfSignedNeedsRenewal,
  type TlsMaterial,
} from './tls.js';
import { TokenIndex, type TokenIndexOptions } from './token-index.js';

export interface VerifierDeps {
  config: VerifierOptions;
  client: KubeClient;
  log: Logger;
  metrics: Pick<Metrics, 'recordVerifyRequest' | 'setIndexStalenessSource'>;
  now?: () => Date;
  /** DNS names of a self-signed certificate; default `localhost`. */
  dnsNames?: readonly string[];
  /** How often mounted certificate files are re-read and a self-signed one checked; default 60 s. */
  tlsRefreshMs?: number;
  index?: TokenIndexOptions;
  /**
   * ScimDomain informers shared with the controllers. Started here (starting is idempotent) but not
   * stopped: their creator stops them after the verifier. Default: informers of its own.
   */
  informers?: RestartingInformer<ScimDomain>[];
}

const DEFAULT_TLS_REFRESH_MS = 60_000;

/**
 * The informers' watchdog bound for a given `--max-staleness`: relist well before going unready —
 * ¾ of it, but leaving at least 10 s for the relist, and never less than half of it (a short bound
 * in tests relists a quiet watch every few seconds rather than flapping readiness).
 */
export function silenceTimeoutFor(maxStalenessMs: number): number {
  return Math.floor(Math.max(Math.min(maxStalenessMs * 0.75, maxStalenessMs - 10_000), maxStalenessMs / 2));
}

/**
 * Milliseconds since the index was last known current: the age of the least current informer, or
 * undefined while one has never listed.
 */
export function indexStaleness(
  lastCurrentAt: readonly (number | undefined)[],
  nowMs: number,
): number | undefined {
  let oldest = Infinity;
  for (const at of lastCurrentAt) {
    if (at === undefined) return undefined;
    oldest = Math.min(oldest, at);
  }
  return oldest === Infinity ? undefined : Math.max(0, nowMs - oldest);
}

export class Verifier {
  readonly index: TokenIndex;
  private readonly informers: RestartingInformer<ScimDomain>[];
  private readonly ownsInformers: boolean;
  private readonly now: () => Date;
  private readonly nowMs: () => number;
  private server: VerifierServer | undefined;
  private tls: TlsMaterial | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private draining = false;
  private wasFresh = true;
  // Latched: informers stay synced across restarts, and this is read on every request.
  private synced = false;

  constructor(private readonly deps: VerifierDeps) {
    this.now = deps.now ?? (() => new Date());
    const injected = deps.now;
    this.nowMs = injected ? () => injected().getTime() : Date.now;
    this.index = new TokenIndex({ now: () => this.now().getTime(), ...deps.index });
    this.ownsInformers = deps.informers === undefined;
    this.informers =
      deps.informers ??
      scimDomainInformers(deps.client, deps.config.namespaces, deps.log, 'verifier/scimdomains', {
        silenceTimeoutMs: silenceTimeoutFor(deps.config.verifier.maxStalenessMs),
        minWatchTimeoutMs: deps.config.minWatchTimeoutMs,
        view: verifierView,
      });
    for (const informer of this.informers) {
      informer.on('add', (d) => this.index.upsert(d));
      informer.on('update', (d) => this.index.upsert(d));
      informer.on('delete', (d) => this.index.remove(d));
    }
  }

  /** Milliseconds since the index was last known current; undefined before the first list. */
  staleness(): number | undefined {
    // Read on every request: no array, and the wall clock without a Date unless one is injected.
    if (this.informers.length === 1) {
      const at = this.informers[0]!.lastCurrentAt;
      return at === undefined ? undefined : Math.max(0, this.nowMs() - at);
    }
    return indexStaleness(
      this.informers.map((i) => i.lastCurrentAt),
      this.nowMs(),
    );
  }

  /**
   * True while token checks are answered: the server listens, the first list of every watched
   * namespace is indexed, and the index is no staler than `--max-staleness`. Read on every request.
   */
  get serving(): boolean {
    if (!this.synced) this.synced = this.server !== undefined && this.informers.every((i) => i.synced);
    if (!this.synced) return false;
    const staleness = this.staleness();
    const fresh = staleness !== undefined && staleness <= this.deps.config.verifier.maxStalenessMs;
    if (fresh !== this.wasFresh) {
      this.wasFresh = fresh;
      if (fresh) this.deps.log.info({ stalenessMs: staleness }, 'verifier index current again: serving');
      else
        this.deps.log.warn(
          { stalenessMs: staleness, maxStalenessMs: this.deps.config.verifier.maxStalenessMs },
          'verifier index too stale: answering 503 and reporting unready until it is current again',
        );
    }
    return fresh;
  }

  /** Ready for traffic: serving, and not draining. */
  get ready(): boolean {
    return this.serving && !this.draining;
  }

  /** Fails readiness from now on; requests are still answered (each closing its connection). */
  beginDrain(): void {
    this.draining = true;
    this.server?.startDraining();
  }

  /**
   * Prepares TLS, starts listening and starts the watches. Resolves once listening — not when the
   * index is synced: until then the server answers 503 and `/readyz` says not ready.
   */
  async start(): Promise<VerifierServer> {
    const { config, log } = this.deps;
    const v = config.verifier;
    this.tls = v.insecure ? undefined : await this.loadTls();
    const handler = createVerifierHandler({
      index: this.index,
      isReady: () => this.ready,
      isServing: () => this.serving,
      metrics: this.deps.metrics,
      log,
    });
    this.server = await startVerifierServer({
      host: v.address.host,
      port: v.address.port,
      tls: this.tls,
      listener: handler,
      maxConnections: v.maxConnections,
      log,
    });
    this.deps.metrics.setIndexStalenessSource(() => this.staleness());
    log.info(
      {
        verifier: this.server.url,
        tls: this.tls?.source ?? 'none (--verify-insecure)',
        ...(this.tls ? { certSha256: this.tls.sha256, certNotAfter: this.tls.notAfter.toISOString() } : {}),
      },
      'verifier listening',
    );
    if (this.tls) {
      this.refreshTimer = setInterval(
        () => void this.refreshTls(),
        this.deps.tlsRefreshMs ?? DEFAULT_TLS_REFRESH_MS,
      );
      this.refreshTimer.unref();
    }
    const startedAt = Date.now();
    void Promise.all(this.informers.map((i) => i.start())).then(() => {
      if (this.stopped) return;
      log.info(
        { tokens: this.index.size, domains: this.index.domains, syncMs: Date.now() - startedAt },
        'verifier ready: initial list indexed',
      );
    });
    return this.server;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    if (this.ownsInformers) await Promise.all(this.informers.map((i) => i.stop()));
    await this.server?.close();
  }

  private async loadTls(): Promise<TlsMaterial> {
    const files = this.deps.config.verifier.tls;
    if (files) return loadTlsFiles(files.certFile, files.keyFile);
    return generateSelfSigned({
      now: this.now(),
      ...(this.deps.dnsNames ? { dnsNames: this.deps.dnsNames } : {}),
    });
  }

  /**
   * Mounted files: picks up a certificate renewed in the Secret (kubelet updates the mount in place).
   * Self-signed: renews it at half-life. A failure keeps serving the current material.
   */
  private async refreshTls(): Promise<void> {
    const current = this.tls;
    const server = this.server;
    if (!current || !server || this.stopped) return;
    try {
      const files = this.deps.config.verifier.tls;
      let next: TlsMaterial | undefined;
      if (files) {
        const loaded = await loadTlsFiles(files.certFile, files.keyFile);
        if (loaded.sha256 !== current.sha256) next = loaded;
      } else if (selfSignedNeedsRenewal(current, this.now(), SELF_SIGNED_VALIDITY_MS)) {
        next = await this.loadTls();
      }
      if (!next || this.stopped) return;
      server.setTls(next);
      this.tls = next;
      this.deps.log.info(
        { tls: next.source, certSha256: next.sha256, certNotAfter: next.notAfter.toISOString() },
        'verifier certificate replaced',
      );
    } catch (err) {
      this.deps.log.warn(
        { err: summarizeError(err) },
        'verifier certificate refresh failed; keeping the current one',
      );
    }
  }
}
