// spec.ttlSecondsAfterFinished on the real API server: a completed one-shot rotation that opted in is
// deleted after its time-to-live (rotated or stalled); one without the field, or still inside its
// TTL, stays; a scheduled rotation cannot have one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestNamespace } from './support/context.js';
import { apiError, waitFor } from './support/kube.js';
import { assertNoTokenLeaks } from './support/leak.js';
import { saveOutput, startOperator, type OperatorProcess } from './support/operator.js';
import { Scim } from './support/scim.js';

const ctx = useTestNamespace('ttl');
let scim: Scim;
let operator: OperatorProcess;

beforeAll(async () => {
  scim = new Scim(ctx, ctx.namespace);
  operator = await startOperator({
    kubeconfig: ctx.kubeconfig,
    namespaces: [ctx.namespace],
    args: ['--rotation-grace', '3s'],
  });
  await scim.createDomain('acme', { domain: `acme-${ctx.runId}.example` });
  await scim.waitForReady('acme');
});

afterAll(async () => {
  if (operator) {
    await operator.stop();
    saveOutput(ctx.runId, 'rotation-ttl', operator.output());
  }
});

async function gone(name: string): Promise<true> {
  return waitFor(`ScimTokenRotation ${name} to be deleted`, async () => {
    try {
      await scim.getRotation(name);
      return undefined;
    } catch (err) {
      if (apiError(err).code === 404) return true;
      throw err;
    }
  });
}

describe('spec.ttlSecondsAfterFinished', () => {
  it('deletes a completed rotation after its TTL, and never one without the field or inside its TTL', async () => {
    await scim.createRotation('kept', { domainRef: { name: 'acme' } });
    await scim.waitForRotation('kept', { reason: 'Rotated', status: 'True' });
    await scim.createRotation('within-ttl', { domainRef: { name: 'acme' }, ttlSecondsAfterFinished: 3600 });
    await scim.waitForRotation('within-ttl', { reason: 'Rotated', status: 'True' });
    const expiring = await scim.createRotation('expiring', {
      domainRef: { name: 'acme' },
      ttlSecondsAfterFinished: 0,
    });

    expect(await gone('expiring')).toBe(true);
    // It ran before it went: the domain recorded it.
    const d = await scim.getDomain('acme');
    expect(d.status?.appliedRotations).toContain(expiring.metadata.uid);
    expect(d.status?.token?.generation).toBe(4);
    // The reconcile that deleted it saw the other two completed as well, and left them.
    expect((await scim.getRotation('kept')).metadata.deletionTimestamp).toBeUndefined();
    expect((await scim.getRotation('within-ttl')).metadata.deletionTimestamp).toBeUndefined();
  });

  it('deletes a rotation that stalled, counting from when it stalled', async () => {
    await scim.createRotation('orphan', { domainRef: { name: 'missing' }, ttlSecondsAfterFinished: 0 });
    // Stalled after the 3 s grace (its domain never appears), then deleted at once (TTL 0).
    expect(await gone('orphan')).toBe(true);
  });

  it('is refused on a scheduled rotation, which never finishes', async () => {
    const err = await scim
      .createRotation('sched', {
        domainRef: { name: 'acme' },
        schedule: '@daily',
        ttlSecondsAfterFinished: 60,
      })
      .catch((e: unknown) => e);
    expect(apiError(err)).toMatchObject({ code: 422 });
    expect(apiError(err).message).toContain('spec.ttlSecondsAfterFinished is for one-shot rotations');
  });

  it.each([-1, 31_536_001])('is refused out of range (%i)', async (ttl) => {
    const err = await scim
      .createRotation(`bad-ttl-${ttl < 0 ? 'neg' : 'big'}`, {
        domainRef: { name: 'acme' },
        ttlSecondsAfterFinished: ttl,
      })
      .catch((e: unknown) => e);
    expect(apiError(err)).toMatchObject({ code: 422 });
    expect(apiError(err).message).toContain('spec.ttlSecondsAfterFinished');
  });
});

describe('secrecy', () => {
  it('leaves no token in the operator output, Events or statuses of this file', async () => {
    await assertNoTokenLeaks(ctx, [ctx.namespace], [operator.output()]);
  });
});
