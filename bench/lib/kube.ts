// The benchmark's own Kubernetes client: creating ScimDomains with bounded concurrency, and a watch
// that timestamps the moment each domain becomes Ready.
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { CustomObjectsApi, KubeConfig, Watch } from '@kubernetes/client-node';
import type { ScimDomain } from '../../src/api/types.js';
import { GROUP, VERSION } from '../../test/integration/support/kube.js';

export function loadKc(kubeconfig: string, opts: { keepAlive?: boolean } = {}): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  if (opts.keepAlive) keepAlive(kc);
  return kc;
}

/**
 * client-node 1.4 builds a new https.Agent for every request (KubeConfig.applySecurityAuthentication
 * → createAgent), so every request opens a TCP connection and does a TLS handshake with
 * client-certificate authentication. This swaps in one keep-alive agent with the same TLS options —
 * used for the "keep-alive" client baseline, to show what connection reuse is worth on this machine.
 */
export function keepAlive(kc: KubeConfig): KubeConfig {
  let shared: https.Agent | undefined;
  const authenticate = kc.applySecurityAuthentication.bind(kc);
  kc.applySecurityAuthentication = async (context) => {
    await authenticate(context);
    const fresh = context.getAgent();
    if (!(fresh instanceof https.Agent)) return;
    shared ??= new https.Agent({ ...fresh.options, keepAlive: true, maxSockets: 64 });
    context.setAgent(shared);
  };
  return kc;
}

export function domainBody(name: string, i: number): ScimDomain {
  const idps = ['EntraID', 'Okta', 'GoogleWorkspace', 'Other'] as const;
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'ScimDomain',
    metadata: { name },
    spec: { domain: `${name}.bench.example`, identityProvider: idps[i % idps.length]! },
  } as ScimDomain;
}

/** Runs `task` for every item with at most `concurrency` in flight; resolves when all are done. */
export async function pool<T>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await task(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** Creates ScimDomains `names` in `namespace`, `concurrency` requests at a time; returns the wall time. */
export async function createDomains(
  kc: KubeConfig,
  namespace: string,
  names: readonly string[],
  concurrency: number,
  offset = 0,
  /** Called with each domain as the API server returned it. */
  onCreated?: (d: ScimDomain) => void,
): Promise<number> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const started = performance.now();
  await pool(names, concurrency, async (name, i) => {
    for (let attempt = 1; ; attempt++) {
      try {
        const created = (await custom.createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace,
          plural: 'scimdomains',
          body: domainBody(name, offset + i),
        })) as ScimDomain;
        onCreated?.(created);
        return;
      } catch (err) {
        // A loaded API server may answer 429/5xx; the benchmark retries rather than fails.
        const code = (err as { code?: number }).code;
        if (attempt >= 5 || (code !== undefined && code < 429)) throw err;
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  });
  return performance.now() - started;
}

export const isReady = (d: ScimDomain): boolean => {
  const ready = d.status?.conditions?.find((c) => c.type === 'Ready');
  return (
    ready?.status === 'True' &&
    ready.reason === 'TokenIssued' &&
    ready.observedGeneration === d.metadata.generation &&
    d.status?.token !== undefined
  );
};

/**
 * Watches the ScimDomains of a namespace and records when each first became Ready (performance.now()).
 * Started before the domains are created, so no transition is missed.
 */
export class ReadyTracker {
  readonly readyAt = new Map<string, number>();
  private readonly waiters: { count: number; resolve: (t: number) => void }[] = [];
  private controller: AbortController | undefined;
  private stopped = false;
  private resourceVersion = '';

  constructor(
    private readonly kc: KubeConfig,
    private readonly namespace: string,
  ) {}

  async start(): Promise<void> {
    const custom = this.kc.makeApiClient(CustomObjectsApi);
    const list = (await custom.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: this.namespace,
      plural: 'scimdomains',
    })) as { items: ScimDomain[]; metadata: { resourceVersion: string } };
    for (const d of list.items) this.observe(d);
    this.resourceVersion = list.metadata.resourceVersion;
    await this.watch();
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    this.controller = await new Watch(this.kc).watch(
      `/apis/${GROUP}/${VERSION}/namespaces/${this.namespace}/scimdomains`,
      { resourceVersion: this.resourceVersion, allowWatchBookmarks: true },
      (type: string, obj: ScimDomain) => {
        if (obj.metadata?.resourceVersion) this.resourceVersion = obj.metadata.resourceVersion;
        if (type === 'ADDED' || type === 'MODIFIED') this.observe(obj);
      },
      () => {
        // Ended (server timeout) or failed: resume from the last version seen.
        if (!this.stopped) setTimeout(() => void this.watch().catch(() => undefined), 100);
      },
    );
  }

  private observe(d: ScimDomain): void {
    const name = d.metadata?.name;
    if (!name || this.readyAt.has(name) || !isReady(d)) return;
    const now = performance.now();
    this.readyAt.set(name, now);
    for (const w of [...this.waiters]) {
      if (this.readyAt.size >= w.count) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(now);
      }
    }
  }

  /** Resolves with the time the `count`-th domain became Ready; rejects after `timeoutMs`. */
  whenReady(count: number, timeoutMs: number): Promise<number> {
    if (this.readyAt.size >= count) return Promise.resolve(Math.max(...this.readyAt.values()));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${this.readyAt.size} of ${count} domains Ready after ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        count,
        resolve: (t) => {
          clearTimeout(timer);
          resolve(t);
        },
      });
    });
  }

  stop(): void {
    this.stopped = true;
    this.controller?.abort();
  }
}
