// Fresh or unready (SPEC §4): a verifier whose watch goes silent without closing — a half-open TCP
// connection, a stalled proxy — must not go on answering from what it last knew. Between the
// verifier (`scim-token-operator verifier`) and the API server sits a TCP proxy that stops
// forwarding without closing anything; a rotation written meanwhile (by a controller that reaches
// the API server directly) must, within --max-staleness, make the old token fail at that replica —
// rejected, or refused with 503 while /readyz says unready — never silently valid. When the proxy
// forwards again the replica catches up and is ready.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { useTestNamespace } from './support/context.js';
import { waitFor } from './support/kube.js';
import { assertNoTokenLeaks } from './support/leak.js';
import { metricTotal, saveOutput, startOperator, type OperatorProcess } from './support/operator.js';
import { Scim, secretValue } from './support/scim.js';
import { startApiServerProxy, type ApiServerProxy } from '../support/tcp-proxy.js';
import { verify, verifierListening } from './support/verifier.js';

const ctx = useTestNamespace('fresh');
const MAX_STALENESS_S = 8;
let scim: Scim;
let proxy: ApiServerProxy;
let controller: OperatorProcess;
let verifier: OperatorProcess;
let url: string;

beforeAll(async () => {
  scim = new Scim(ctx, ctx.namespace);
  proxy = await startApiServerProxy(ctx.kc, ctx.namespace);
  controller = await startOperator({
    kubeconfig: ctx.kubeconfig,
    namespaces: [ctx.namespace],
    command: 'controller',
  });
  verifier = await startOperator({
    kubeconfig: proxy.kubeconfig,
    namespaces: [ctx.namespace],
    command: 'verifier',
    args: ['--max-staleness', `${MAX_STALENESS_S}s`],
  });
  url = (await verifierListening(verifier)).verifier;
});

afterAll(async () => {
  proxy?.setStalled(false);
  for (const [name, p] of [
    ['controller', controller],
    ['verifier', verifier],
  ] as const) {
    if (!p) continue;
    await p.stop('SIGKILL');
    saveOutput(ctx.runId, `verifier-freshness-${name}`, p.output());
  }
  await proxy?.close();
});

const readyz = async (p: OperatorProcess) => (await fetch(`${p.metricsUrl}/readyz`)).status;

it('stays ready through a quiet spell longer than --max-staleness: its watchdog keeps the index current', async () => {
  await scim.createDomain('quiet', { domain: `quiet-${ctx.runId}.example` });
  await scim.waitForReady('quiet');
  const until = Date.now() + (MAX_STALENESS_S + 3) * 1000;
  while (Date.now() < until) {
    expect(await readyz(verifier)).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
  }
  expect(await metricTotal(verifier, 'scim_verifier_index_staleness_seconds')).toBeLessThan(MAX_STALENESS_S);
});

it('never accepts a token rotated away while its watch is stalled: it refuses with 503 and reports unready', async () => {
  await scim.createDomain('stall', { domain: `stall-${ctx.runId}.example` });
  await scim.waitForReady('stall');
  const old = secretValue(await scim.getSecret('stall-scim-token'), 'token')!;
  await waitFor('the verifier to accept the token', async () =>
    (await verify(url, old)).status === 200 ? true : undefined,
  );

  proxy.setStalled(true);
  const rotation = await scim.createRotation('stall-rotate', { domainRef: { name: 'stall' } });
  await scim.waitForReady('stall', { status: 'True', reason: 'TokenIssued' }, ctx.namespace, (d) =>
    (d.status?.appliedRotations ?? []).includes(rotation.metadata.uid ?? ''),
  );
  // The bound: --max-staleness from the last thing the watch said (before the stall), plus the
  // time to notice. It cannot have seen the rotation, so the old token must be refused with 503.
  const answer = await waitFor(
    'the stalled verifier to stop accepting the old token',
    async () => {
      const r = await verify(url, old);
      return r.status === 200 ? undefined : r;
    },
    { timeoutMs: (MAX_STALENESS_S + 10) * 1000, intervalMs: 200 },
  );
  expect(answer.status).toBe(503);
  expect(await readyz(verifier)).toBe(503);
  expect(await metricTotal(verifier, 'scim_verifier_index_staleness_seconds')).toBeGreaterThan(
    MAX_STALENESS_S,
  );
  // And it stays so for as long as the stall lasts.
  for (let i = 0; i < 5; i++) {
    expect((await verify(url, old)).status).toBe(503);
    await new Promise((r) => setTimeout(r, 300));
  }

  proxy.setStalled(false);
  const current = secretValue(await scim.getSecret('stall-scim-token'), 'token')!;
  await waitFor(
    'the verifier to catch up: old token revoked, new one valid, ready',
    async () => {
      const [o, n] = await Promise.all([verify(url, old), verify(url, current)]);
      return o.status === 401 &&
        o.reason === 'revoked' &&
        n.status === 200 &&
        (await readyz(verifier)) === 200
        ? true
        : undefined;
    },
    { timeoutMs: 60_000 },
  );
});

it('leaves no token in the output of either process', async () => {
  await assertNoTokenLeaks(ctx, [ctx.namespace], [controller.output(), verifier.output()]);
});
