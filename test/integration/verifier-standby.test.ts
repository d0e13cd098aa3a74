// The verifier of a replica that is not the leader (SPEC §4: served by every replica, not
// leader-gated). The controllers and the verifier share one ScimDomain cache; that cache must run on
// a standby too, which never starts reconciling: it is ready, accepts the tokens the leader issues,
// and sees their revocation.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { assertNoTokenLeaks } from './support/leak.js';
import { useTestNamespace } from './support/context.js';
import { waitFor } from './support/kube.js';
import { metricTotal, saveOutput, startOperator, type OperatorProcess } from './support/operator.js';
import { Scim, secretValue } from './support/scim.js';
import { timeUntil, verify, verifierListening } from './support/verifier.js';

const ctx = useTestNamespace('stby');
let scim: Scim;
let leader: OperatorProcess;
let standby: OperatorProcess;
let standbyUrl: string;
const args = () => [
  '--leader-elect',
  '--leader-election-namespace',
  ctx.namespace,
  '--lease-duration',
  '15s',
  '--renew-deadline',
  '10s',
  '--retry-period',
  '500ms',
];

beforeAll(async () => {
  scim = new Scim(ctx, ctx.namespace);
  leader = await startOperator({ kubeconfig: ctx.kubeconfig, namespaces: [ctx.namespace], args: args() });
  await waitFor('the first process to lead', async () =>
    (await metricTotal(leader, 'scim_leader')) === 1 ? true : undefined,
  );
  // Started second, it stays a standby for as long as the first holds the Lease. startOperator
  // waits for its /readyz: readiness does not wait for leadership.
  standby = await startOperator({ kubeconfig: ctx.kubeconfig, namespaces: [ctx.namespace], args: args() });
  standbyUrl = (await verifierListening(standby)).verifier;
});

afterAll(async () => {
  for (const [name, p] of [
    ['standby', standby],
    ['leader', leader],
  ] as const) {
    if (!p) continue;
    await p.stop('SIGKILL');
    saveOutput(ctx.runId, `verifier-standby-${name}`, p.output());
  }
});

it('accepts the token the leader issued and rejects it once revoked, without reconciling', async () => {
  expect(await metricTotal(standby, 'scim_leader')).toBe(0);
  await scim.createDomain('sb', { domain: `sb-${ctx.runId}.example` });
  await scim.waitForReady('sb');
  const token = secretValue(await scim.getSecret('sb-scim-token'), 'token')!;
  await timeUntil(
    'the standby to accept the token',
    async () => (await verify(standbyUrl, token)).status === 200,
  );

  await scim.patchDomainSpec('sb', { suspend: true });
  await timeUntil('the standby to reject the suspended token', async () => {
    const r = await verify(standbyUrl, token);
    return r.status === 401 && r.reason === 'revoked';
  });
  expect(await metricTotal(standby, 'scim_leader')).toBe(0);
  expect(await metricTotal(standby, 'scim_reconcile_total')).toBe(0);
});

it('stops cleanly on SIGTERM as a standby', async () => {
  expect(await standby.stop('SIGTERM')).toBe(0);
});

it('leaves no token in the output of either process', async () => {
  await leader.stop('SIGTERM');
  await assertNoTokenLeaks(ctx, [ctx.namespace], [leader.output(), standby.output()]);
});
