// The issuance baseline (SPEC §6, issue #16): what the API server can take when the operator's own
// writes for a domain are made with no operator logic at all — the same requests (create the token
// Secret, write the domain's status, create the Event), with the operator's client (src/kube/client.ts,
// keep-alive), the operator's concurrency (its --workers; Events in the background, 16 at a
// time, as kube/events.ts does), bodies copied from what the operator wrote in the same run, and the
// domains created by the same benchmark client as the operator's run. Its domains/s is the ceiling
// the operator's rate is divided by.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { CoreV1Event, V1Secret } from '@kubernetes/client-node';
import type { ScimDomain } from '../../src/api/types.js';
import { coreApi, customObjectsApi } from '../../src/kube/apis.js';
import { KubeClient } from '../../src/kube/client.js';
import { loadConnection } from '../../src/kube/connection.js';
import { GROUP, VERSION } from '../../test/integration/support/kube.js';
import { createDomains, loadKc, ReadyTracker } from './kube.js';

export interface WriteTemplates {
  secret: V1Secret;
  status: ScimDomain['status'];
  event: CoreV1Event;
}

/** One domain's writes as the operator made them in `namespace`: its Secret, status and first Event. */
export async function templatesFrom(
  kubeconfig: string,
  namespace: string,
  domain: string,
): Promise<WriteTemplates> {
  const client = new KubeClient(await loadConnection(kubeconfig));
  const d = await client.request<ScimDomain>(
    'GET',
    `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/scimdomains/${domain}`,
  );
  const secretName = d.status?.secretName ?? `${domain}-scim-token`;
  const secret = await client.request<V1Secret>(
    'GET',
    `/api/v1/namespaces/${namespace}/secrets/${secretName}`,
  );
  const events = await client.request<{ items: CoreV1Event[] }>(
    'GET',
    `/api/v1/namespaces/${namespace}/events`,
    {
      query: { fieldSelector: `involvedObject.name=${domain}` },
    },
  );
  const event = events.items[0];
  if (!d.status || !event) throw new Error(`no status or Event for ${namespace}/${domain} to copy`);
  return { secret, status: d.status, event };
}

function rename(t: WriteTemplates, domain: ScimDomain, from: string) {
  const name = domain.metadata.name;
  const namespace = domain.metadata.namespace;
  const swap = (s: string) => s.split(from).join(name);
  const secret: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: t.secret.type,
    metadata: {
      name: swap(t.secret.metadata!.name!),
      namespace,
      labels: Object.fromEntries(
        Object.entries(t.secret.metadata?.labels ?? {}).map(([k, v]) => [k, swap(v)]),
      ),
      annotations: Object.fromEntries(
        Object.entries(t.secret.metadata?.annotations ?? {}).map(([k, v]) => [k, swap(v)]),
      ),
      ownerReferences: [
        {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: 'ScimDomain',
          name,
          uid: domain.metadata.uid!,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    // A fresh token of the same length: the bytes differ, the size does not.
    data: Object.fromEntries(
      Object.entries(t.secret.data ?? {}).map(([k, v]) => [
        k,
        randomBytes(Buffer.from(v, 'base64').length).toString('base64'),
      ]),
    ),
  };
  const now = new Date().toISOString();
  const event = {
    ...t.event,
    metadata: { name: `${name}.${randomBytes(8).toString('hex')}`, namespace },
    involvedObject: {
      ...t.event.involvedObject,
      name,
      namespace,
      uid: domain.metadata.uid,
      resourceVersion: undefined,
    },
    firstTimestamp: now,
    lastTimestamp: now,
  } as unknown as CoreV1Event;
  const status = JSON.parse(swap(JSON.stringify(t.status))) as NonNullable<ScimDomain['status']>;
  for (const c of status.conditions ?? []) c.observedGeneration = domain.metadata.generation;
  return { secret, event, status };
}

export interface SameWritesResult {
  domains: number;
  /** First create → the last domain seen Ready by the benchmark's watch (as for the operator). */
  seconds: number;
  domainsPerSecond: number;
  requests: { POST: number; PUT: number };
}

export async function runSameWrites(o: {
  kubeconfig: string;
  namespace: string;
  names: readonly string[];
  clientConcurrency: number;
  workers: number;
  templates: WriteTemplates;
  templateDomain: string;
  timeoutMs: number;
}): Promise<SameWritesResult> {
  const client = new KubeClient(await loadConnection(o.kubeconfig));
  const core = coreApi(client);
  const custom = customObjectsApi(client);
  const kc = loadKc(o.kubeconfig, { keepAlive: true });
  const tracker = new ReadyTracker(kc, o.namespace);
  await tracker.start();
  const requests = { POST: 0, PUT: 0 };

  // Created domains queue up for the workers in the order the API server confirms them, as watch
  // events queue them for the operator's workers.
  const created: ScimDomain[] = [];
  const idle: (() => void)[] = [];
  let creating = true;
  const events: Promise<unknown>[] = [];
  let eventsInFlight = 0;
  const eventQueue: CoreV1Event[] = [];
  const pumpEvents = () => {
    while (eventsInFlight < 16 && eventQueue.length > 0) {
      const body = eventQueue.shift()!;
      eventsInFlight++;
      requests.POST++;
      events.push(
        core
          .createNamespacedEvent({ namespace: o.namespace, body })
          .catch(() => undefined)
          .finally(() => {
            eventsInFlight--;
            pumpEvents();
          }),
      );
    }
  };
  const worker = async () => {
    for (;;) {
      const d = created.shift();
      if (!d) {
        if (!creating) return;
        await new Promise<void>((r) => idle.push(r));
        continue;
      }
      const w = rename(o.templates, d, o.templateDomain);
      requests.POST++;
      await core.createNamespacedSecret({ namespace: o.namespace, body: w.secret });
      requests.PUT++;
      await custom.replaceNamespacedCustomObjectStatus({
        group: GROUP,
        version: VERSION,
        namespace: o.namespace,
        plural: 'scimdomains',
        name: d.metadata.name,
        body: { ...d, status: w.status },
      });
      eventQueue.push(w.event);
      pumpEvents();
    }
  };
  const t0 = performance.now();
  const workers = Array.from({ length: o.workers }, worker);
  await createDomains(kc, o.namespace, o.names, o.clientConcurrency, 0, (d) => {
    created.push(d);
    idle.shift()?.();
  });
  creating = false;
  for (const w of idle.splice(0)) w();
  await Promise.all(workers);
  const allReady = await tracker.whenReady(o.names.length, o.timeoutMs);
  tracker.stop();
  await Promise.all(events);
  const seconds = (allReady - t0) / 1000;
  return {
    domains: o.names.length,
    seconds: Math.round(seconds * 100) / 100,
    domainsPerSecond: Math.round((o.names.length / seconds) * 10) / 10,
    requests,
  };
}
