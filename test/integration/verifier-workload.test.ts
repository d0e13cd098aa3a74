// The two workloads of one binary (SPEC §4, §5): `controller` serves no verify port, `verifier`
// answers token checks without reconciling anything, and on SIGTERM the verifier reports not-ready
// first and keeps answering for its drain period before it closes (what lets a rolling update drop
// no verify request). In the one-process mode, losing the leadership stops the controllers only.
import { V1MicroTime } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_LEASE_NAME, leaseClient } from '../../src/kube/leader-election.js';
import { useTestNamespace } from './support/context.js';
import { kubeClientOf, waitFor } from './support/kube.js';
import { assertNoTokenLeaks } from './support/leak.js';
import { metricTotal, saveOutput, startOperator, type OperatorProcess } from './support/operator.js';
import { Scim, secretValue } from './support/scim.js';
import { verify, verifierListening } from './support/verifier.js';

const ctx = useTestNamespace('wkld');
let scim: Scim;
let controller: OperatorProcess;
let verifier: OperatorProcess;
let both: OperatorProcess | undefined;
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
    ['both', both],
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

it('keeps verifying after losing the leadership in one process: only its controllers stop', async () => {
  // One reconciler at a time in this namespace.
  expect(await controller.stop()).toBe(0);
  both = await startOperator({
    kubeconfig: ctx.kubeconfig,
    namespaces: [ctx.namespace],
    args: [
      '--leader-elect',
      '--leader-election-namespace',
      ctx.namespace,
      '--lease-duration',
      '4s',
      '--renew-deadline',
      '3s',
      '--retry-period',
      '500ms',
    ],
  });
  const p = both;
  await waitFor('the process to lead', async () =>
    (await metricTotal(p, 'scim_leader')) === 1 ? true : undefined,
  );
  const bothUrl = (await verifierListening(p)).verifier;
  const token = secretValue(await scim.getSecret('split-scim-token'), 'token')!;
  await waitFor('its verifier to accept the token', async () =>
    (await verify(bothUrl, token)).status === 200 ? true : undefined,
  );

  // Another identity takes the Lease, as a replica that saw it expire would.
  const leases = leaseClient(kubeClientOf(ctx.kc));
  const lease = (await leases.read(ctx.namespace, DEFAULT_LEASE_NAME))!;
  lease.spec = {
    ...lease.spec,
    holderIdentity: 'another-replica',
    renewTime: new V1MicroTime(Date.now()),
    leaseDurationSeconds: 600,
  };
  await leases.replace(ctx.namespace, DEFAULT_LEASE_NAME, lease);
  await waitFor('the process to notice it lost the Lease', async () =>
    (await metricTotal(p, 'scim_leader')) === 0 ? true : undefined,
  );
  expect(p.output()).toContain('lost leadership; controllers stopped, the verifier keeps answering');
  expect(p.child.exitCode).toBeNull();
  expect((await verify(bothUrl, token)).status).toBe(200);
  expect((await fetch(`${p.metricsUrl}/readyz`)).status).toBe(200);
  // Not live: a supervisor restarts it when it suits, to rejoin the election.
  expect((await fetch(`${p.metricsUrl}/healthz`)).status).toBe(503);
});

it('leaves no token in the output of any process', async () => {
  await assertNoTokenLeaks(
    ctx,
    [ctx.namespace],
    [controller.output(), verifier.output(), both?.output() ?? ''],
  );
});
