// The two workloads of one binary (SPEC §4, §5): `controller` serves no verify port, `verifier`
// answers token checks without reconciling anything, and on SIGTERM the verifier reports not-ready
// first and keeps answering for its drain period before it closes (what lets a rolling update drop
// no verify request).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { useTestNamespace } from './support/context.js';
import { waitFor } from './support/kube.js';
import { assertNoTokenLeaks } from './support/leak.js';
import { metricTotal, saveOutput, startOperator, type OperatorProcess } from './support/operator.js';
import { Scim, secretValue } from './support/scim.js';
import { verify, verifierListening } from './support/verifier.js';

const ctx = useTestNamespace('wkld');
let scim: Scim;
let controller: OperatorProcess;
let verifier: OperatorProcess;
let url: string;

beforeAll(async () => {
  scim = new Scim(ctx, ctx.namespace);
  controller = await startOperator({
    kubeconfig: ctx.kubeconfig,
    namespaces: [ctx.namespace],
    command: 'controller',
  });
  verifier = await startOperator({
    kubeconfig: ctx.kubeconfig,
    namespaces: [ctx.namespace],
    command: 'verifier',
    args: ['--drain-period', '3s'],
  });
  url = (await verifierListening(verifier)).verifier;
});

afterAll(async () => {
  for (const [name, p] of [
    ['controller', controller],
    ['verifier', verifier],
  ] as const) {
    if (!p) continue;
    await p.stop('SIGKILL');
    saveOutput(ctx.runId, `verifier-workload-${name}`, p.output());
  }
});

it('splits the work: the controller issues and serves no verifier, the verifier answers and reconciles nothing', async () => {
  await scim.createDomain('split', { domain: `split-${ctx.runId}.example` });
  await scim.waitForReady('split');
  const token = secretValue(await scim.getSecret('split-scim-token'), 'token')!;
  await waitFor('the verifier to accept the token', async () =>
    (await verify(url, token)).status === 200 ? true : undefined,
  );
  expect(controller.output()).not.toContain('"msg":"verifier listening"');
  expect(await metricTotal(verifier, 'scim_reconcile_total')).toBe(0);
  expect(await metricTotal(controller, 'scim_reconcile_total')).toBeGreaterThan(0);
});

it('on SIGTERM is unready at once, keeps answering through the drain period, then exits 0', async () => {
  const token = secretValue(await scim.getSecret('split-scim-token'), 'token')!;
  verifier.child.kill('SIGTERM');
  await waitFor('/readyz to fail', async () =>
    (await fetch(`${verifier.metricsUrl}/readyz`)).status === 503 ? true : undefined,
  );
  // Still draining: the check is answered, and each answer closes its connection.
  const answer = await verify(url, token);
  expect(answer.status).toBe(200);
  expect(answer.headers.connection).toBe('close');
  expect(await verifier.exited).toBe(0);
  expect(verifier.output()).toMatch(/"drainMs":3000/);
});

it('leaves no token in the output of either process', async () => {
  await assertNoTokenLeaks(ctx, [ctx.namespace], [controller.output(), verifier.output()]);
});
