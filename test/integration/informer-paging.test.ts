// The informer's lists against the real API server: read in pages (limit/continue) that together
// are one list, the watch started from that list's resourceVersion, and every cached object — listed
// or watched — without what no reader uses (managedFields; last-applied-configuration on our custom
// resources, but not on Secrets, whose annotations a replace carries over).
import type { KubernetesListObject, V1Secret } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { MANAGED_BY, MANAGED_BY_LABEL, type ScimDomain } from '../../src/api/types.js';
import { RestartingInformer, listAllPages, type ListPage } from '../../src/kube/informer.js';
import {
  LAST_APPLIED_ANNOTATION,
  withoutApplyBookkeeping,
  withoutManagedFields,
} from '../../src/kube/trim.js';
import { useTestNamespace } from './support/context.js';
import { GROUP, VERSION, kubeClientOf, waitFor } from './support/kube.js';

const ctx = useTestNamespace('paging');
const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined };
const informers: { stop(): Promise<void> }[] = [];

afterAll(async () => {
  await Promise.all(informers.map((i) => i.stop()));
});

async function createDomain(name: string): Promise<void> {
  await ctx.custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: ctx.namespace,
    plural: 'scimdomains',
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'ScimDomain',
      metadata: {
        name,
        // What `kubectl apply` leaves on an object.
        annotations: { [LAST_APPLIED_ANNOTATION]: `{"metadata":{"name":"${name}"}}`, note: 'kept' },
      },
      spec: { domain: `${name}.${ctx.namespace}.example`, identityProvider: 'Other' },
    },
  });
}

async function createSecret(name: string, managed: boolean): Promise<void> {
  await ctx.core.createNamespacedSecret({
    namespace: ctx.namespace,
    body: {
      metadata: {
        name,
        labels: managed ? { [MANAGED_BY_LABEL]: MANAGED_BY } : {},
        annotations: { [LAST_APPLIED_ANNOTATION]: '{}', note: 'kept' },
      },
      data: { token: Buffer.from(name).toString('base64') },
    },
  });
}

/** Lists ScimDomains of the test namespace, recording each page asked for. */
function domainPages(asked: ListPage[]) {
  return async (page: ListPage) => {
    asked.push(page);
    return (await ctx.custom.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ctx.namespace,
      plural: 'scimdomains',
      limit: page.limit,
      _continue: page.continue,
    })) as KubernetesListObject<ScimDomain>;
  };
}

describe('paged lists', () => {
  it('reads every object in pages of `limit`, as one list at the first page’s resourceVersion', async () => {
    for (const n of ['a0', 'a1', 'a2', 'a3', 'a4']) await createDomain(n);
    const asked: ListPage[] = [];
    const list = await listAllPages(domainPages(asked), { pageSize: 2 });
    expect(asked.map((p) => p.limit)).toEqual([2, 2, 2]);
    expect(asked[0]!.continue).toBeUndefined();
    expect(asked[1]!.continue).toEqual(expect.any(String));
    expect(list.items.map((d) => d.metadata.name)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);

    const whole = (await ctx.custom.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ctx.namespace,
      plural: 'scimdomains',
    })) as KubernetesListObject<ScimDomain>;
    expect(Number(list.metadata?.resourceVersion)).toBeGreaterThan(0);
    expect(Number(list.metadata?.resourceVersion)).toBeLessThanOrEqual(
      Number(whole.metadata?.resourceVersion),
    );
  });

  it('returns objects created during the list only from the watch, not from later pages', async () => {
    const asked: ListPage[] = [];
    const pages = domainPages(asked);
    let created = false;
    const list = await listAllPages(
      async (page) => {
        const result = await pages(page);
        if (!created) {
          created = true;
          await createDomain('z-during-list');
        }
        return result;
      },
      { pageSize: 2 },
    );
    // The later pages come from the first page's snapshot (consistent list).
    expect(list.items.map((d) => d.metadata.name)).not.toContain('z-during-list');
  });

  it('caches listed and watched ScimDomains without managedFields or last-applied-configuration', async () => {
    const asked: ListPage[] = [];
    const informer = new RestartingInformer<ScimDomain>({
      name: 'test/scimdomains',
      client: kubeClientOf(ctx.kc),
      path: `/apis/${GROUP}/${VERSION}/namespaces/${ctx.namespace}/scimdomains`,
      list: domainPages(asked),
      pageSize: 2,
      streamingList: false,
      transform: withoutApplyBookkeeping,
      log: quiet,
    });
    informers.push(informer);
    const added: ScimDomain[] = [];
    informer.on('add', (d) => added.push(d));
    await informer.start();
    expect(asked).toHaveLength(3);
    expect(
      informer
        .list()
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'z-during-list']);

    // After the list: from the watch, which started at the list's resourceVersion.
    await createDomain('b0');
    const watched = await waitFor('b0 in the cache', () => informer.get('b0', ctx.namespace));
    for (const d of [...informer.list(), ...added]) {
      expect(d.metadata).not.toHaveProperty('managedFields');
      expect(d.metadata.annotations).toEqual({ note: 'kept' });
      expect(d.metadata.resourceVersion).toEqual(expect.any(String));
    }
    expect(added.map((d) => d.metadata.name)).toContain('b0');
    expect(watched.spec.domain).toBe(`b0.${ctx.namespace}.example`);

    // Deletions come from the watch too.
    const deleted: string[] = [];
    informer.on('delete', (d) => deleted.push(d.metadata.name));
    await ctx.custom.deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ctx.namespace,
      plural: 'scimdomains',
      name: 'b0',
    });
    await waitFor('b0 gone from the cache', () => (informer.get('b0', ctx.namespace) ? undefined : true));
    expect(deleted).toEqual(['b0']);
  });

  it('pages typed lists too (Secrets, with a label selector), keeping their annotations', async () => {
    for (const n of ['s0', 's1', 's2']) await createSecret(n, true);
    await createSecret('other', false);
    const selector = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;
    const asked: ListPage[] = [];
    const informer = new RestartingInformer<V1Secret>({
      name: 'test/secrets',
      client: kubeClientOf(ctx.kc),
      path: `/api/v1/namespaces/${ctx.namespace}/secrets`,
      labelSelector: selector,
      list: (page) => {
        asked.push(page);
        return ctx.core.listNamespacedSecret({
          namespace: ctx.namespace,
          labelSelector: selector,
          limit: page.limit,
          _continue: page.continue,
        });
      },
      pageSize: 2,
      streamingList: false,
      transform: withoutManagedFields,
      log: quiet,
    });
    informers.push(informer);
    await informer.start();
    expect(asked).toHaveLength(2);
    await createSecret('s3', true);
    await waitFor('s3 in the cache', () => informer.get('s3', ctx.namespace));
    const cached = informer.list();
    expect(cached.map((s) => s.metadata?.name).sort()).toEqual(['s0', 's1', 's2', 's3']);
    for (const s of cached) {
      expect(s.metadata).not.toHaveProperty('managedFields');
      expect(s.metadata?.annotations).toEqual({ [LAST_APPLIED_ANNOTATION]: '{}', note: 'kept' });
      expect(s.data?.token).toBe(Buffer.from(s.metadata!.name!).toString('base64'));
    }
  });
});

describe('streaming lists (sendInitialEvents)', () => {
  it('lists by one watch request where the API server offers it: every object, trimmed, no page asked', async () => {
    for (const n of ['s0', 's1', 's2']) await createDomain(n);
    const asked: ListPage[] = [];
    const informer = new RestartingInformer<ScimDomain>({
      name: 'test/streamed',
      client: kubeClientOf(ctx.kc),
      path: `/apis/${GROUP}/${VERSION}/namespaces/${ctx.namespace}/scimdomains`,
      list: domainPages(asked),
      transform: withoutApplyBookkeeping,
      log: quiet,
    });
    informers.push(informer);
    await informer.start();
    expect(asked).toEqual([]);
    const names = informer.list().map((d) => d.metadata.name);
    expect(names).toEqual(expect.arrayContaining(['s0', 's1', 's2']));
    for (const d of informer.list()) {
      expect(d.metadata).not.toHaveProperty('managedFields');
      expect(d.metadata.annotations).toEqual({ note: 'kept' });
    }
    expect(informer.lastCurrentAt).toEqual(expect.any(Number));

    // The same connection goes on as the watch.
    await createDomain('s3');
    await waitFor('s3 in the cache', () => informer.get('s3', ctx.namespace));
    expect(asked).toEqual([]);
  });
});
