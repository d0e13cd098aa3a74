// The verifier of SPEC §4 as one unit main.ts starts and stops: ScimDomain watches feeding the token
// index, the HTTP(S) server, and the upkeep of its TLS material.
//
// It runs on every replica, leader or not. main.ts gives it the ScimDomain informers the controllers
// use (one cache of every domain, not two); those run on every replica too — leadership only gates
// reconciling — and the verifier starts them itself, so it never depends on the controllers having
// started. Without them it watches on its own. It reads ScimDomains only — never Secrets (SPEC §3).

import type { KubeConfig } from '@kubernetes/client-node';
import type { ScimDomain } from '../api/types.js';
import type { Config } from '../config.js';
import { type RestartingInformer, describeError } from '../kube/informer.js';
import { scimDomainInformers } from '../kube/scim-informers.js';
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
  config: Pick<Config, 'namespaces' | 'verifier'>;
  kc: KubeConfig;
  log: Logger;
  metrics: Pick<Metrics, 'recordVerifyRequest'>;
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

export class Verifier {
  readonly index: TokenIndex;
  private readonly informers: RestartingInformer<ScimDomain>[];
  private readonly ownsInformers: boolean;
  private readonly now: () => Date;
  private server: VerifierServer | undefined;
  private tls: TlsMaterial | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  // Latched: informers stay synced across restarts, and this is read on every request.
  private synced = false;

  constructor(private readonly deps: VerifierDeps) {
    this.now = deps.now ?? (() => new Date());
    this.index = new TokenIndex({ now: () => this.now().getTime(), ...deps.index });
    this.ownsInformers = deps.informers === undefined;
    this.informers =
      deps.informers ??
      scimDomainInformers(deps.kc, deps.config.namespaces, deps.log, 'verifier/scimdomains');
    for (const informer of this.informers) {
      informer.on('add', (d) => this.index.upsert(d));
      informer.on('update', (d) => this.index.upsert(d));
      informer.on('delete', (d) => this.index.remove(d));
    }
  }

  /** True once the server listens and the first list of every watched namespace is indexed. */
  get ready(): boolean {
    if (!this.synced) this.synced = this.server !== undefined && this.informers.every((i) => i.synced);
    return this.synced;
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
      metrics: this.deps.metrics,
      log,
    });
    this.server = await startVerifierServer({
      host: v.address.host,
      port: v.address.port,
      tls: this.tls,
      listener: handler,
      log,
    });
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
        { err: describeError(err) },
        'verifier certificate refresh failed; keeping the current one',
      );
    }
  }
}
