// A watch that expires (410 Gone) → a re-list that loses no revocation.
//
// The fault plane ends every watch after 5–10 s, serves watches from etcd (no watch cache) and
// compacts etcd every 5 s. Replica `late` reaches the API server through a proxy that is set to hold
// what it sends: its open watches end by themselves, and each resume — a watch from the last
// resourceVersion it saw — waits in the proxy. Meanwhile replica `live` rotates every domain, and
// the test waits until etcd has compacted past the revision `late` last saw. Released, `late`'s
// resumes are answered 410 Gone; client-node's ListWatch then re-lists by itself (no error, no
// restart of ours), and that re-list alone must bring every revocation into `late`'s verifier.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertNoTokenLeaks } from '../integration/support/leak.js';
import { GROUP, VERSION, apiError, waitFor } from '../integration/support/kube.js';
import { Scim } from '../integration/support/scim.js';
import { verify } from '../integration/support/verifier.js';
import { useFaultNamespace } from './support/context.js';
import {
  Operators,
  consistentToken,
  createRotationRetrying,
  sleep,
  waitForVerdict,
  type Operator,
} from './support/harness.js';
import { startApiServerProxy, type ApiServerProxy } from '../support/tcp-proxy.js';

const ctx = useFaultNamespace('expiry');
const ops = new Operators(ctx);
let scim: Scim;
let proxy: ApiServerProxy;
let live: Operator;
let late: Operator;
const unique = (base: string) => `${base}-${ctx.namespace}.example`;
const DOMAINS = ['e0', 'e1', 'e2', 'e3'];

beforeAll(async () => {
  scim = new Scim(ctx, ctx.namespace);
  proxy = await startApiServerProxy(ctx.kc, ctx.namespace);
  live = await ops.start('live');
  late = await ops.start('late', { kubeconfig: proxy.kubeconfig });
});

afterAll(async () => {
  await ops.stopAll();
  await proxy?.close();
});

interface LogLine {
  msg?: string;
  informer?: string;
  time?: string;
}

function logLines(op: Operator): LogLine[] {
  return op
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

/** True once a list at `resourceVersion` is refused as too old: etcd has compacted past it. */
async function compactedPast(resourceVersion: string): Promise<boolean> {
  try {
    await ctx.custom.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ctx.namespace,
      plural: 'scimdomains',
      resourceVersion,
      resourceVersionMatch: 'Exact',
    });
    return false;
  } catch (err) {
    if (apiError(err).code === 410) return true;
    throw err;
  }
}

describe('a watch that expires (410 Gone)', () => {
  it('re-lists and loses no revocation made while the watch was away', async () => {
    for (const d of DOMAINS) await scim.createDomain(d, { domain: unique(d) });
    const before = new Map<string, string>();
    for (const d of DOMAINS) {
      await scim.waitForReady(d);
      before.set(d, (await consistentToken(scim, d)).token);
    }
    for (const t of before.values()) await waitForVerdict(late.verifier, t, 200, 'before');
    proxy.setHeld(true);
    // The API server ends every watch within 10 s of its start (--min-request-timeout=5), and what it
    // sends still reaches `late`; each resume `late` sends after that is held in the proxy.
    await sleep(11_000);
    // Newer than anything `late` has seen: it has had no connection since its watches ended.
    const listed = (await ctx.custom.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ctx.namespace,
      plural: 'scimdomains',
    })) as { metadata: { resourceVersion: string } };

    const rotations = await Promise.all(
      DOMAINS.map((d) => createRotationRetrying(scim, `${d}-while-away`, d)),
    );
    for (const r of rotations)
      await scim.waitForRotation(
        r.metadata.name,
        { reason: 'Rotated', status: 'True' },
        { timeoutMs: 120_000 },
      );
    const after = new Map<string, string>();
    for (const d of DOMAINS) after.set(d, (await consistentToken(scim, d)).token);
    for (const d of DOMAINS)
      await waitForVerdict(live.verifier, before.get(d)!, 401, `${d} rotated out (live)`);
    // `late` has not seen the rotations: its index still holds the old tokens.
    for (const d of DOMAINS) expect((await verify(late.verifier, before.get(d))).status).toBe(200);

    // Another write so the newest revision moves on, then wait for etcd to compact past what `late` saw.
    await scim.createDomain('bump', { domain: unique('bump') });
    await waitFor(
      `etcd compacted past resourceVersion ${listed.metadata.resourceVersion}`,
      () => compactedPast(listed.metadata.resourceVersion).then((c) => (c ? true : undefined)),
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
    const releasedAt = new Date().toISOString();
    proxy.setHeld(false);

    for (const d of DOMAINS) {
      await waitForVerdict(late.verifier, before.get(d)!, 401, `${d} rotated out (late)`, 120_000);
      expect((await verify(late.verifier, before.get(d))).reason).toBe('revoked');
      await waitForVerdict(late.verifier, after.get(d)!, 200, `${d} new token (late)`);
    }

    // The path taken: the ScimDomain informer (shared by the verifier and the controllers) re-listed
    // after the release (client-node re-lists by itself when a resumed watch is answered 410 Gone; a
    // connection the API server closes early is restarted by our informer with a fresh list — either
    // way a full list, which is what keeps the revocations above from being lost).
    const name = `scimdomains/${ctx.namespace}`;
    const since = logLines(late).filter((l) => l.informer === name && (l.time ?? '') >= releasedAt);
    expect(since.filter((l) => l.msg === 'informer re-listed').length).toBeGreaterThan(0);
    expect(late.child.exitCode).toBeNull();
  });

  it('leaves no token in the output of either process, Events or statuses', async () => {
    await ops.stopAll();
    await assertNoTokenLeaks(ctx, [ctx.namespace], ops.outputs());
  });
});
