// A write the API server keeps refusing: every update of scimtokenrotations/status in this namespace
// is denied by a ValidatingAdmissionPolicy while the namespace carries a label, and rotations of one
// domain arrive meanwhile. While refused, the operator retries with growing backoff (SPEC §5), not in
// a loop; once the writes go through again every rotation is applied exactly once and reports the
// token it replaced and the one it issued, whichever of its writes were refused.
import { AdmissionregistrationV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { ScimDomain, ScimTokenRotation } from '../../src/api/types.js';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { assertNoTokenLeaks } from '../integration/support/leak.js';
import { GROUP, VERSION, apiError, waitFor } from '../integration/support/kube.js';
import { Scim } from '../integration/support/scim.js';
import { useFaultNamespace } from './support/context.js';
import {
  Operators,
  consistentToken,
  createRotationRetrying,
  expectAppliedExactlyOnce,
  expectRotationsReportTheirTokens,
  waitForVerdict,
  type Operator,
} from './support/harness.js';

const ctx = useFaultNamespace('statusfail');
const ops = new Operators(ctx);
let scim: Scim;
let op: Operator;
let admission: AdmissionregistrationV1Api;
const unique = (base: string) => `${base}-${ctx.namespace}.example`;
const DENY_LABEL = 'scim.tokens.dev/fault-deny-rotation-status';
const policyName = () => `fault-deny-rotation-status-${ctx.namespace}`;

async function setDenied(denied: boolean): Promise<void> {
  await ctx.core.patchNamespace(
    { name: ctx.namespace, body: { metadata: { labels: { [DENY_LABEL]: denied ? 'true' : null } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

/** Tries a status update of the probe rotation: true when the policy refused it. */
async function statusWritesDenied(): Promise<boolean> {
  const probe = await scim.getRotation('probe');
  try {
    await ctx.custom.replaceNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      namespace: ctx.namespace,
      plural: 'scimtokenrotations',
      name: 'probe',
      body: { ...probe, status: { ...(probe.status ?? {}), observedGeneration: 0 } },
    });
    return false;
  } catch (err) {
    const { code, message } = apiError(err);
    if (message.includes('fault injection')) return true;
    if (code === 409) return false;
    throw err;
  }
}

function failedReconciles(key: string): number {
  return op
    .output()
    .split('\n')
    .filter((l) => l.includes('"msg":"reconcile failed"') && l.includes(`"scimdomain":"${key}"`)).length;
}

beforeAll(async () => {
  scim = new Scim(ctx, ctx.namespace);
  admission = ctx.kc.makeApiClient(AdmissionregistrationV1Api);
  await admission.createValidatingAdmissionPolicy({
    body: {
      metadata: { name: policyName() },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          namespaceSelector: { matchLabels: { [DENY_LABEL]: 'true' } },
          resourceRules: [
            {
              apiGroups: [GROUP],
              apiVersions: [VERSION],
              operations: ['UPDATE'],
              resources: ['scimtokenrotations/status'],
            },
          ],
        },
        validations: [
          { expression: 'false', message: 'fault injection: rotation status writes are refused' },
        ],
      },
    },
  });
  await admission.createValidatingAdmissionPolicyBinding({
    body: {
      metadata: { name: policyName() },
      spec: { policyName: policyName(), validationActions: ['Deny'] },
    },
  });
  op = await ops.start('operator');
});

afterAll(async () => {
  await ops.stopAll();
  await admission?.deleteValidatingAdmissionPolicyBinding({ name: policyName() }).catch(() => undefined);
  await admission?.deleteValidatingAdmissionPolicy({ name: policyName() }).catch(() => undefined);
});

/** The highest `attempt` of the operator's 'reconcile failed' lines for `key`. */
function highestAttempt(key: string): number {
  let highest = 0;
  for (const line of op.output().split('\n')) {
    if (!line.includes('"msg":"reconcile failed"') || !line.includes(`"scimdomain":"${key}"`)) continue;
    highest = Math.max(highest, (JSON.parse(line) as { attempt?: number }).attempt ?? 0);
  }
  return highest;
}

describe('rotation status writes refused for a while', () => {
  const rotations: ScimTokenRotation[] = [];
  let before: ScimDomain;
  const key = () => `${ctx.namespace}/flaky`;

  it('retries the refused write with growing backoff, not in a loop', async () => {
    await scim.createDomain('flaky', { domain: unique('flaky') });
    before = await scim.waitForReady('flaky');
    // A rotation of a domain that does not exist: only its status is ever written (the probe).
    await scim.createRotation('probe', { domainRef: { name: 'no-such-domain' } });
    await setDenied(true);
    await waitFor('the policy to refuse rotation status writes', () =>
      statusWritesDenied().then((d) => (d ? true : undefined)),
    );
    rotations.push(await createRotationRetrying(scim, 'flaky-0', 'flaky'));
    // Backoff doubles from 100 ms: a fifth attempt comes within seconds — unless something resets
    // the count (a write of our own that re-enqueues the key and "succeeds"), which is a hot loop.
    await waitFor(
      `a 5th consecutive attempt at ${key()}`,
      () => (highestAttempt(key()) >= 5 ? true : undefined),
      { timeoutMs: 60_000 },
    ).catch((err: Error) => {
      const failed = failedReconciles(key());
      throw new Error(
        `${err.message}: ${failed} failed reconciles, none past attempt ${highestAttempt(key())}`,
      );
    });
  });

  it('applies each rotation once, and each reports its tokens, once the writes go through', async () => {
    for (const name of ['flaky-1', 'flaky-2'])
      rotations.push(await createRotationRetrying(scim, name, 'flaky'));
    const failedSoFar = failedReconciles(key());
    await waitFor(
      'the operator to have tried the domain again',
      () => (failedReconciles(key()) >= failedSoFar + 2 ? true : undefined),
      { timeoutMs: 120_000 },
    );

    await setDenied(false);
    await waitFor('rotation status writes to be allowed again', () =>
      statusWritesDenied().then((d) => (d ? undefined : true)),
    );
    const done = await Promise.all(
      rotations.map((r) =>
        scim.waitForRotation(r.metadata.name, { reason: 'Rotated', status: 'True' }, { timeoutMs: 180_000 }),
      ),
    );
    const d = await scim.getDomain('flaky');
    expectAppliedExactlyOnce(d, before.status!.token!.generation, done);
    const { token } = await consistentToken(scim, 'flaky');
    await waitForVerdict(op.verifier, token, 200, 'the current token');
    expectRotationsReportTheirTokens(d, before.status!.token!.id, done);
  });

  it('leaves no token in the output of the operator, Events or statuses', async () => {
    await ops.stopAll();
    await assertNoTokenLeaks(ctx, [ctx.namespace], ops.outputs());
  });
});
