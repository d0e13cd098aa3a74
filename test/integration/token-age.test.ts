// spec.maxTokenAge on the real API server (SPEC §1.1): the CRD refuses what is not a duration; a
// token past its max age turns TokenOverdue=True with a Warning Event — at that instant, not at the
// next resync — and rotates nothing; a rotation brings it back within; removing the field clears it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScimDomain } from '../../src/api/types.js';
import type { Condition } from '../../src/rules/conditions.js';
import { useTestNamespace } from './support/context.js';
import { GROUP, VERSION, apiError, waitFor } from './support/kube.js';
import { assertNoTokenLeaks } from './support/leak.js';
import { saveOutput, startOperator, type OperatorProcess } from './support/operator.js';
import { Scim, secretValue } from './support/scim.js';

const ctx = useTestNamespace('age');
let scim: Scim;
let operator: OperatorProcess;
const unique = (base: string) => `${base}-${ctx.runId}.example`;

const overdueCondition = (d: ScimDomain): Condition | undefined =>
  d.status?.conditions?.find((c) => c.type === 'TokenOverdue');

async function waitForOverdue(name: string, status: 'True' | 'False', tokenId?: string): Promise<ScimDomain> {
  return waitFor(`ScimDomain ${name} TokenOverdue=${status}`, async () => {
    const d = await scim.getDomain(name);
    if (tokenId !== undefined && d.status?.token?.id !== tokenId) return undefined;
    return overdueCondition(d)?.status === status ? d : undefined;
  });
}

beforeAll(async () => {
  scim = new Scim(ctx, ctx.namespace);
  // The default resync (10 minutes): a condition that turns within seconds comes from the requeue
  // at the overdue instant.
  operator = await startOperator({ kubeconfig: ctx.kubeconfig, namespaces: [ctx.namespace] });
});

afterAll(async () => {
  if (operator) {
    await operator.stop();
    saveOutput(ctx.runId, 'token-age', operator.output());
  }
});

describe('the CRD', () => {
  it.each([['720h'], ['1h30m'], ['45s']])('accepts maxTokenAge %s', async (maxTokenAge) => {
    const name = `ok-${maxTokenAge.replace(/[^a-z0-9]/g, '')}`;
    const d = await scim.createDomain(name, { domain: unique(name), maxTokenAge });
    expect(d.spec.maxTokenAge).toBe(maxTokenAge);
    await scim.deleteDomain(name);
  });

  it.each([['30d'], ['1.5h'], ['720'], ['0s'], ['0h0m'], ['-1h'], ['soon']])(
    'refuses maxTokenAge %s, naming the field',
    async (maxTokenAge) => {
      const refused = await ctx.custom
        .createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: ctx.namespace,
          plural: 'scimdomains',
          body: {
            apiVersion: `${GROUP}/${VERSION}`,
            kind: 'ScimDomain',
            metadata: { name: 'refused' },
            spec: { domain: unique('refused'), maxTokenAge },
          },
        })
        .then(
          () => undefined,
          (err: unknown) => apiError(err),
        );
      expect(refused?.code).toBe(422);
      expect(refused?.message).toMatch(/spec\.maxTokenAge/);
    },
  );
});

describe('a token older than spec.maxTokenAge', () => {
  let first: ScimDomain;

  it('is reported within its max age first, with the instant it becomes overdue', async () => {
    await scim.createDomain('aging', { domain: unique('aging'), maxTokenAge: '8s' });
    first = await waitForOverdue('aging', 'False');
    // Read, so that the leak check below looks for this token too.
    expect(secretValue(await scim.getSecret('aging-scim-token'), 'token')).toMatch(/^sct_/);
    const issuedAt = Date.parse(first.status!.token!.issuedAt);
    expect(overdueCondition(first)).toMatchObject({
      reason: 'WithinMaxTokenAge',
      message: `token ${first.status!.token!.id} (${first.status!.token!.fingerprint}) is within spec.maxTokenAge (8s) until ${new Date(issuedAt + 8_000).toISOString()}`,
    });
    expect(first.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  it('turns TokenOverdue=True with a Warning Event, and keeps the token (nothing is rotated)', async () => {
    const d = await waitForOverdue('aging', 'True');
    expect(overdueCondition(d)).toMatchObject({ reason: 'MaxTokenAgeExceeded' });
    expect(d.status?.token).toEqual(first.status?.token);
    expect(d.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      reason: 'TokenIssued',
    });
    const e = await scim.waitForEvent('aging', 'TokenOverdue');
    expect(e.type).toBe('Warning');
    expect(e.message).toContain(first.status!.token!.id);
    expect(e.message).toMatch(/kubectl scim rotate aging/);
  });

  it('is within its max age again once rotated', async () => {
    await scim.createRotation('aging-rotate', { domainRef: { name: 'aging' } });
    await scim.waitForRotation('aging-rotate', { reason: 'Rotated', status: 'True' });
    const rotated = await waitFor('the new token to be recorded', async () => {
      const d = await scim.getDomain('aging');
      return d.status?.token && d.status.token.id !== first.status?.token?.id ? d : undefined;
    });
    const d = await waitForOverdue('aging', 'False', rotated.status!.token!.id);
    expect(overdueCondition(d)?.reason).toBe('WithinMaxTokenAge');
  });

  it('loses the condition when spec.maxTokenAge is removed', async () => {
    await scim.patchDomainSpec('aging', { maxTokenAge: null });
    await waitFor('TokenOverdue to be removed', async () =>
      overdueCondition(await scim.getDomain('aging')) === undefined ? true : undefined,
    );
  });
});

describe('secrecy', () => {
  it('leaves no token in the operator output, Events or statuses of this file', async () => {
    expect(await assertNoTokenLeaks(ctx, [ctx.namespace], [operator.output()])).toBeGreaterThanOrEqual(2);
  });
});
