// Reading and writing ScimDomains, their Secrets and Events in tests, and remembering every token
// a test saw so the leak check can look for it everywhere else.
import { PatchStrategy, setHeaderOptions, type CoreV1Event, type V1Secret } from '@kubernetes/client-node';
import type {
  ScimDomain,
  ScimDomainSpec,
  ScimTokenRotation,
  ScimTokenRotationSpec,
} from '../../../src/api/types.js';
import type { Cluster } from './kube.js';
import { GROUP, VERSION, waitFor } from './kube.js';

export const seenTokens = new Set<string>();

export class Scim {
  constructor(
    private readonly c: Cluster,
    readonly namespace: string,
  ) {}

  async createDomain(name: string, spec: ScimDomainSpec, namespace = this.namespace): Promise<ScimDomain> {
    return (await this.c.custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: 'scimdomains',
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'ScimDomain', metadata: { name }, spec },
    })) as ScimDomain;
  }

  async getDomain(name: string, namespace = this.namespace): Promise<ScimDomain> {
    return (await this.c.custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: 'scimdomains',
      name,
    })) as ScimDomain;
  }

  async patchDomainSpec(
    name: string,
    spec: Partial<ScimDomainSpec> | Record<string, unknown>,
  ): Promise<ScimDomain> {
    return (await this.c.custom.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        namespace: this.namespace,
        plural: 'scimdomains',
        name,
        body: { spec },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as ScimDomain;
  }

  async deleteDomain(name: string, namespace = this.namespace): Promise<void> {
    await this.c.custom.deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: 'scimdomains',
      name,
    });
  }

  async getSecret(name: string, namespace = this.namespace): Promise<V1Secret | undefined> {
    try {
      const s = await this.c.core.readNamespacedSecret({ namespace, name });
      const token = secretValue(s, 'token');
      if (token) seenTokens.add(token);
      return s;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }

  /** Waits until Ready has the given status and reason for the current generation. */
  async waitForReady(
    name: string,
    want: { status?: 'True' | 'False'; reason?: string } = { status: 'True', reason: 'TokenIssued' },
    namespace = this.namespace,
    check?: (d: ScimDomain) => boolean,
  ): Promise<ScimDomain> {
    return waitFor(
      `ScimDomain ${namespace}/${name} Ready=${want.status ?? '*'} ${want.reason ?? ''}`,
      async () => {
        const d = await this.getDomain(name, namespace);
        const ready = d.status?.conditions?.find((c) => c.type === 'Ready');
        if (!ready || ready.observedGeneration !== d.metadata.generation) return undefined;
        if (want.status && ready.status !== want.status) return undefined;
        if (want.reason && ready.reason !== want.reason) return undefined;
        if (check && !check(d)) return undefined;
        return d;
      },
    );
  }

  async createRotation(
    name: string,
    spec: ScimTokenRotationSpec,
    namespace = this.namespace,
  ): Promise<ScimTokenRotation> {
    return (await this.c.custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: 'scimtokenrotations',
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'ScimTokenRotation', metadata: { name }, spec },
    })) as ScimTokenRotation;
  }

  async getRotation(name: string, namespace = this.namespace): Promise<ScimTokenRotation> {
    return (await this.c.custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: 'scimtokenrotations',
      name,
    })) as ScimTokenRotation;
  }

  /** Waits until the rotation's Ready (or Stalled, with stalled: true) condition has this reason. */
  async waitForRotation(
    name: string,
    want: { reason: string; status?: 'True' | 'False'; stalled?: boolean },
    opts: { timeoutMs?: number; check?: (r: ScimTokenRotation) => boolean } = {},
  ): Promise<ScimTokenRotation> {
    return waitFor(
      `ScimTokenRotation ${name} ${want.stalled ? 'Stalled' : 'Ready'} ${want.reason}`,
      async () => {
        const r = await this.getRotation(name);
        const c = r.status?.conditions?.find((x) => x.type === (want.stalled ? 'Stalled' : 'Ready'));
        if (!c || c.reason !== want.reason) return undefined;
        if (want.status && c.status !== want.status) return undefined;
        if (opts.check && !opts.check(r)) return undefined;
        return r;
      },
      { timeoutMs: opts.timeoutMs ?? 30_000 },
    );
  }

  async events(objectName: string, namespace = this.namespace): Promise<CoreV1Event[]> {
    const list = await this.c.core.listNamespacedEvent({
      namespace,
      fieldSelector: `involvedObject.name=${objectName}`,
    });
    return list.items;
  }

  async waitForEvent(objectName: string, reason: string, namespace = this.namespace): Promise<CoreV1Event> {
    return waitFor(`Event ${reason} on ${objectName}`, async () =>
      (await this.events(objectName, namespace)).find((e) => e.reason === reason),
    );
  }
}

export function secretValue(s: V1Secret | undefined, key: string): string | undefined {
  const v = s?.data?.[key];
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
}
