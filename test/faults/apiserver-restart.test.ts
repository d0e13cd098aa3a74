// kube-apiserver restarted while 50 rotations of one domain are being applied: every rotation is
// applied exactly once, and the operator — the same process, never restarted — recovers by itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScimTokenRotation } from '../../src/api/types.js';
import { assertNoTokenLeaks } from '../integration/support/leak.js';
import { Scim } from '../integration/support/scim.js';
import { verify } from '../integration/support/verifier.js';
import { useFaultNamespace } from './support/context.js';
import {
  Operators,
  TokenSampler,
  consistentToken,
  createRetrying,
  createRotationRetrying,
  expectAppliedExactlyOnce,
  expectRotationsReportTheirTokens,
  waitForVerdict,
  type Operator,
} from './support/harness.js';
import { planeProcess } from './support/plane.js';

const ctx = useFaultNamespace('apirestart');
const ops = new Operators(ctx);
let scim: Scim;
let op: Operator;
const unique = (base: string) => `${base}-${ctx.namespace}.example`;
const ROTATIONS = 50;
// Created at once, so that the restart lands while the operator works through them.
const BEFORE_RESTART = 20;

beforeAll(async () => {
  scim = new Scim(ctx, ctx.namespace);
  op = await ops.start('operator');
});

afterAll(async () => {
  await ops.stopAll();
});

describe('kube-apiserver restarted during 50 rotations', () => {
  it('applies every rotation exactly once and the operator recovers without a restart', async () => {
    await scim.createDomain('busy', { domain: unique('busy') });
    const before = await scim.waitForReady('busy');
    const initialGeneration = before.status!.token!.generation;
    const sampler = new TokenSampler(scim, ['busy']).start();
    await sampler.sample();

    const names = Array.from({ length: ROTATIONS }, (_, i) => `busy-${String(i).padStart(2, '0')}`);
    const created: ScimTokenRotation[] = await Promise.all(
      names.slice(0, BEFORE_RESTART).map((n) => createRotationRetrying(scim, n, 'busy')),
    );
    const restart = planeProcess('restart', 'kube-apiserver');
    // The rest are created as soon as (and while) the API server takes them.
    for (const n of names.slice(BEFORE_RESTART)) created.push(await createRotationRetrying(scim, n, 'busy'));
    await restart;

    const done = await Promise.all(
      names.map((n) =>
        scim.waitForRotation(n, { reason: 'Rotated', status: 'True' }, { timeoutMs: 180_000 }),
      ),
    );
    await sampler.stop();

    // The operator saw the outage and is the same process.
    expect(op.child.exitCode).toBeNull();
    expect(op.child.signalCode).toBeNull();
    expect(op.output()).toMatch(/informer failed; restarting with a fresh list/);

    const d = await scim.getDomain('busy');
    expectAppliedExactlyOnce(d, initialGeneration, done);
    expectRotationsReportTheirTokens(d, before.status!.token!.id, done);
    expect([...(d.status?.appliedRotations ?? [])].sort()).toEqual(created.map((r) => r.metadata.uid).sort());
    // The last ten revocations are the ten tokens before the current one, each revoked by a rotation.
    const revoked = d.status?.revokedTokens ?? [];
    expect(revoked).toHaveLength(10);
    expect(revoked.every((t) => t.reason === 'Rotated')).toBe(true);
    expect(new Set(revoked.map((t) => t.id)).size).toBe(10);

    // One valid token: the Secret's; every other token the Secret ever held is rejected.
    const { token: current } = await consistentToken(scim, 'busy');
    await waitForVerdict(op.verifier, current, 200, 'the current token');
    const old = sampler.all().filter((t) => t !== current);
    expect(old.length).toBeGreaterThan(0);
    for (const t of old) expect((await verify(op.verifier, t)).status).toBe(401);
  });

  it('goes on issuing: a domain created after the restart gets a token the verifier accepts', async () => {
    await createRetrying(
      'ScimDomain after created',
      () => scim.createDomain('after', { domain: unique('after') }),
      () => scim.getDomain('after'),
    );
    await scim.waitForReady('after');
    const { token } = await consistentToken(scim, 'after');
    await waitForVerdict(op.verifier, token, 200, 'the new domain token');
    expect(op.child.exitCode).toBeNull();
  });

  it('leaves no token in the output of the operator, Events or statuses', async () => {
    await ops.stopAll();
    await assertNoTokenLeaks(ctx, [ctx.namespace], ops.outputs());
  });
});
