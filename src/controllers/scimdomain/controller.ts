// The ScimDomain controller as one unit the operator starts and stops (controller-runtime's
// `internal/controller`): the watches it owns (ScimTokenRotations, the managed Secrets) beside the
// shared ScimDomain informers it is given, its indexes, the routing of every watch event to a work-queue
// key, the work queue, and its reconcile metrics. The reconcile itself is reconcile.ts; this module
// only wires it (moved here unchanged from operator.ts, which keeps the lifecycle only).
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import {
  DOMAIN_KIND,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  ROTATION_PLURAL,
  type ScimDomain,
  type ScimTokenRotation,
} from '../../api/types.js';
import { namespacedKey, objectKey, splitObjectKey } from '../../api/object-key.js';
import type { ScimDomainControllerConfig } from './controller-config.js';
import {
  CONTROLLER_NAME,
  reconcileDomain,
  rotationExpectationKey,
  secretExpectationKey,
  type DomainReconcilerDeps,
  type RotationCache,
} from './reconcile.js';
import type { DomainCache, SecretCache } from './gather.js';
import type { NewToken } from '../../rules/scimdomain/plan.js';
import { generateToken, generateTokenId, tokenSha256, type RandomBytes } from '../../rules/token.js';
import { EntraClient } from '../../delivery/entra.js';
import { describeError } from '../../kube/errors.js';
import { EventRecorder } from '../../kube/events.js';
import type { TokenSealer } from '../../rules/token-seal.js';
import { GenerationHistories } from './generation-history.js';
import { coreApi, customObjectsApi } from '../../kube/apis.js';
import type { KubeClient } from '../../kube/client.js';
import { Expectations } from '../../kube/expectations.js';
import { RestartingInformer } from '../../kube/informer.js';
import { customResourceInformers } from '../../kube/scim-informers.js';
import { withoutManagedFields } from '../../kube/trim.js';
import { WorkQueue } from '../../kube/work-queue.js';
import type { Metrics } from '../../observability/metrics.js';

export interface ScimDomainControllerDeps {
  config: ScimDomainControllerConfig;
  client: KubeClient;
  log: Logger;
  metrics: Metrics;
  /** The shared ScimDomain informers: routed from here, started and stopped by the operator. */
  domains: RestartingInformer<ScimDomain>[];
  now?: () => Date;
  randomBytes?: RandomBytes;
  failpoint?: (name: string) => void;
  /** Seals the tokens the controller writes (SPEC §2.3): one key for every replica and restart. */
  sealer: TokenSealer;
  /** This process in Events' reportingInstance: the pod name, else the hostname. */
  instance: string;
}

export function tokenIssuer(randomBytes: RandomBytes): () => NewToken {
  return () => {
    const token = generateToken(randomBytes);
    return {
      token,
      id: generateTokenId(randomBytes),
      sha256: tokenSha256(token),
    };
  };
}

/** A secondary index: object key ("ns/name") → one index value, and the reverse. O(1) updates. */
class KeyIndex {
  private readonly byValue = new Map<string, Set<string>>();
  private readonly valueOf = new Map<string, string>();
  set(key: string, value: string): void {
    this.remove(key);
    this.valueOf.set(key, value);
    let keys = this.byValue.get(value);
    if (!keys) this.byValue.set(value, (keys = new Set()));
    keys.add(key);
  }
  remove(key: string): void {
    const value = this.valueOf.get(key);
    if (value === undefined) return;
    this.valueOf.delete(key);
    const keys = this.byValue.get(value);
    keys?.delete(key);
    if (keys?.size === 0) this.byValue.delete(value);
  }
  keys(value: string): string[] {
    return [...(this.byValue.get(value) ?? [])];
  }
}

/** ScimDomains by spec.domain, across every watched namespace: who claims what (SPEC §2.1). */
class DomainIndex implements DomainCache {
  private readonly byDomain = new KeyIndex();
  constructor(private readonly informers: RestartingInformer<ScimDomain>[]) {}
  track(d: ScimDomain): void {
    this.byDomain.set(objectKey(d), d.spec?.domain ?? '');
  }
  untrack(d: ScimDomain): void {
    this.byDomain.remove(objectKey(d));
  }
  get(name: string, namespace?: string): ScimDomain | undefined {
    for (const i of this.informers) {
      const d = i.get(name, namespace);
      if (d) return d;
    }
    return undefined;
  }
  claimants(domain: string): ScimDomain[] {
    return this.byDomain.keys(domain).flatMap((k) => {
      const { namespace: ns, name } = splitObjectKey(k);
      const d = this.get(name, ns);
      return d ? [d] : [];
    });
  }
  all(): ScimDomain[] {
    return this.informers.flatMap((i) => i.list());
  }
  *values(): IterableIterator<ScimDomain> {
    for (const i of this.informers) yield* i.values();
  }
}

/** Our labelled Secrets, from the Secret informers. */
class SecretIndex implements SecretCache {
  constructor(private readonly informers: RestartingInformer<V1Secret>[]) {}
  get(name: string, namespace?: string): V1Secret | undefined {
    for (const i of this.informers) {
      const s = i.get(name, namespace);
      if (s) return s;
    }
    return undefined;
  }
}

/** ScimTokenRotations by the domain they target ("ns/domainName"). */
class RotationIndex implements RotationCache {
  private readonly byDomain = new KeyIndex();
  constructor(private readonly informers: RestartingInformer<ScimTokenRotation>[]) {}
  track(r: ScimTokenRotation): void {
    this.byDomain.set(
      objectKey(r),
      namespacedKey(r.metadata?.namespace ?? '', r.spec?.domainRef?.name ?? ''),
    );
  }
  untrack(r: ScimTokenRotation): void {
    this.byDomain.remove(objectKey(r));
  }
  forDomain(namespace: string, domainName: string): ScimTokenRotation[] {
    return this.byDomain.keys(namespacedKey(namespace, domainName)).flatMap((k) => {
      const { namespace: ns, name } = splitObjectKey(k);
      for (const i of this.informers) {
        const r = i.get(name, ns);
        if (r) return [r];
      }
      return [];
    });
  }
}

export class ScimDomainController {
  readonly name = CONTROLLER_NAME;
  private readonly domains: RestartingInformer<ScimDomain>[];
  private readonly rotations: RestartingInformer<ScimTokenRotation>[];
  private readonly rotationIndex: RotationIndex;
  private readonly secrets: RestartingInformer<V1Secret>[];
  private readonly index: DomainIndex;
  private readonly queue: WorkQueue;
  private readonly expectations: Expectations;
  private readonly events: EventRecorder;
  private readonly histories = new GenerationHistories();
  /** Delivery to Entra ID (SPEC §2.7): its HTTPS agent and access-token cache live as long as this. */
  private readonly entra: EntraClient;
  private resyncTimer: NodeJS.Timeout | undefined;
  private reconciling = false;

  constructor(private readonly deps: ScimDomainControllerDeps) {
    const { config, client, log, metrics } = deps;
    const now = deps.now ?? (() => new Date());
    const core = coreApi(client);
    const custom = customObjectsApi(client);
    this.events = new EventRecorder(core, log, now, deps.instance);
    const scopes: (string | undefined)[] =
      config.namespaces.length > 0 ? [...config.namespaces] : [undefined];

    this.domains = deps.domains;
    this.rotations = customResourceInformers<ScimTokenRotation>(
      client,
      ROTATION_PLURAL,
      config.namespaces,
      log,
      {
        minWatchTimeoutMs: config.minWatchTimeoutMs,
      },
    );
    this.rotationIndex = new RotationIndex(this.rotations);
    const selector = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;
    this.secrets = scopes.map(
      (ns) =>
        new RestartingInformer<V1Secret>({
          name: `secrets${ns ? `/${ns}` : ''}`,
          client,
          path: ns ? `/api/v1/namespaces/${ns}/secrets` : '/api/v1/secrets',
          labelSelector: selector,
          list: ({ limit, continue: _continue }) =>
            ns
              ? core.listNamespacedSecret({ namespace: ns, labelSelector: selector, limit, _continue })
              : core.listSecretForAllNamespaces({ labelSelector: selector, limit, _continue }),
          // Labels, annotations and data are all read (a replace carries them over): only
          // managedFields goes.
          transform: withoutManagedFields,
          minWatchTimeoutMs: config.minWatchTimeoutMs,
          log,
        }),
    );
    this.index = new DomainIndex(this.domains);
    this.expectations = new Expectations(() => now().getTime());
    const { authorityUrl, graphUrl, extraCaFile } = config.delivery;
    this.entra = new EntraClient({
      authorityUrl,
      graphUrl,
      extraCa: extraCaFile !== undefined ? readFileSync(extraCaFile, 'utf8') : undefined,
      log,
      now,
    });

    const reconcilerDeps: DomainReconcilerDeps = {
      core,
      custom,
      cache: this.index,
      secrets: new SecretIndex(this.secrets),
      liveSecretReads: new Set(),
      rotations: this.rotationIndex,
      rotationGraceMs: config.rotationGraceMs,
      onRotation: (trigger, result) => metrics.recordRotation(trigger, result),
      events: this.events,
      expectations: this.expectations,
      log,
      now,
      issueToken: tokenIssuer(deps.randomBytes ?? ((n) => cryptoRandomBytes(n))),
      sealer: deps.sealer,
      deliverer: this.entra,
      onDelivery: (result) => metrics.recordDelivery(result),
      generationHistory: (key) => this.histories.get(key),
      ...(deps.failpoint ? { failpoint: deps.failpoint } : {}),
    };
    this.queue = new WorkQueue(
      async (key) => {
        const end = metrics.reconcileDuration.startTimer({ controller: CONTROLLER_NAME });
        try {
          const result = await reconcileDomain(reconcilerDeps, key);
          metrics.reconcileTotal.inc({
            controller: CONTROLLER_NAME,
            result: result?.requeueAfterMs !== undefined ? 'requeue' : 'success',
          });
          return result;
        } catch (err) {
          metrics.reconcileTotal.inc({ controller: CONTROLLER_NAME, result: 'error' });
          throw err;
        } finally {
          end();
        }
      },
      {
        name: CONTROLLER_NAME,
        workers: config.workers,
        onError: (key, err, attempt, delayMs) => {
          metrics.reconcileErrors.inc({ controller: CONTROLLER_NAME, reason: errorReason(err) });
          log.warn(
            { scimdomain: key, attempt, retryInMs: delayMs, error: describeError(err) },
            'reconcile failed',
          );
        },
        onDepthChange: (depth) => metrics.workqueueDepth.set({ queue: CONTROLLER_NAME }, depth),
      },
    );

    for (const informer of this.domains) {
      const onDomain = (d: ScimDomain) => {
        const key = objectKey(d);
        this.index.track(d);
        this.histories.observe(d);
        this.expectations.observe(key, d.metadata?.resourceVersion);
        this.queue.add(key);
        // A change to one claim can hand the domain to another (SPEC §2.1).
        for (const rival of this.index.claimants(d.spec?.domain ?? '')) this.queue.add(objectKey(rival));
      };
      informer.on('add', onDomain);
      informer.on('update', onDomain);
      informer.on('delete', (d) => {
        const key = objectKey(d);
        this.index.untrack(d);
        this.histories.forget(key);
        this.expectations.forget(key);
        for (const rival of this.index.claimants(d.spec?.domain ?? '')) this.queue.add(objectKey(rival));
      });
      informer.onRestart(() => this.enqueueAll());
    }
    for (const informer of this.rotations) {
      // A rotation is reconciled under its domain's key (SPEC §2.6).
      const onRotation = (r: ScimTokenRotation) => {
        this.rotationIndex.track(r);
        this.expectations.observe(rotationExpectationKey(r), r.metadata?.resourceVersion);
        if (r.metadata?.namespace && r.spec?.domainRef?.name)
          this.queue.add(namespacedKey(r.metadata.namespace, r.spec.domainRef.name));
      };
      informer.on('add', onRotation);
      informer.on('update', onRotation);
      informer.on('delete', (r) => {
        this.rotationIndex.untrack(r);
        this.expectations.forget(rotationExpectationKey(r));
      });
      informer.onRestart(() => this.enqueueAll());
    }
    for (const informer of this.secrets) {
      const onSecret = (s: V1Secret) => {
        if (s.metadata?.namespace && s.metadata.name) {
          this.expectations.observe(
            secretExpectationKey(s.metadata.namespace, s.metadata.name),
            s.metadata.resourceVersion,
          );
        }
        const owner = s.metadata?.ownerReferences?.find(
          (o) => o.controller === true && o.kind === DOMAIN_KIND,
        );
        if (owner && s.metadata?.namespace) this.queue.add(namespacedKey(s.metadata.namespace, owner.name));
      };
      informer.on('add', onSecret);
      informer.on('update', onSecret);
      informer.on('delete', onSecret);
      informer.onRestart(() => this.enqueueAll());
    }
  }

  /** The watches this controller owns (the ScimDomain informers are shared, owned by the operator). */
  get informers(): readonly (RestartingInformer<ScimTokenRotation> | RestartingInformer<V1Secret>)[] {
    return [...this.rotations, ...this.secrets];
  }

  /** Starts the work queue: from here on this process writes. Idempotent. */
  startReconciling(): void {
    if (this.reconciling) return;
    this.reconciling = true;
    this.queue.start();
    this.enqueueAll();
    this.resyncTimer = setInterval(() => this.enqueueAll(), this.deps.config.resyncPeriodMs);
    this.resyncTimer.unref();
    this.deps.log.info(
      { namespaces: this.deps.config.namespaces.length ? this.deps.config.namespaces : 'all' },
      'controllers started',
    );
  }

  private enqueueAll(): void {
    for (const d of this.index.values()) this.queue.add(objectKey(d));
    // Rotations whose domain does not exist (yet) are reconciled under that domain's key too.
    for (const r of this.rotations.flatMap((i) => i.list())) {
      if (r.metadata?.namespace && r.spec?.domainRef?.name)
        this.queue.add(namespacedKey(r.metadata.namespace, r.spec.domainRef.name));
    }
  }

  /** Stops taking work and lets in-flight reconciles finish; the operator then stops the watches. */
  async shutdown(): Promise<void> {
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    await this.queue.shutdown();
    await this.events.flush();
    this.entra.close();
  }
}

function errorReason(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? `http_${code}` : 'error';
}
