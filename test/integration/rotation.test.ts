// ScimTokenRotation on the real API server (SPEC §1.2, §2.2): one-shot and scheduled rotations.
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestNamespace } from './support/context.js';
import { GROUP, VERSION, apiError } from './support/kube.js';
import { assertNoTokenLeaks } from './support/leak.js';
import { saveOutput, startOperator, type OperatorProcess } from './support/operator.js';
import { Scim, secretValue } from './support/scim.js';
import { sha256 } from '../support/hashes.js';

const ctx = useTestNamespace('rot');
const GRACE_S = 8;
let scim: Scim;
let operator: OperatorProcess;
const unique = (base: string) => `${base}-${ctx.runId}.example`;

beforeAll(async () => {
  scim = new Scim(ctx, ctx.namespace);
  operator = await startOperator({
    kubeconfig: ctx.kubeconfig,
    namespaces: [ctx.namespace],
    args: ['--rotation-grace', `${GRACE_S}s`],
  });
});

afterAll(async () => {
  if (operator) {
    await operator.stop();
    saveOutput(ctx.runId, 'rotation', operator.output());
  }
});

describe('a one-shot rotation', () => {
  it('replaces the token once: the old one is revoked, the new one is in the Secret and status', async () => {
    await scim.createDomain('acme', { domain: unique('acme') });
    const before = await scim.waitForReady('acme');
    const oldToken = secretValue(await scim.getSecret('acme-scim-token'), 'token')!;
    const rotation = await scim.createRotation('acme-now', {
      domainRef: { name: 'acme' },
      reason: 'token lost',
    });

    const r = await scim.waitForRotation('acme-now', { reason: 'Rotated', status: 'True' });
    const d = await scim.getDomain('acme');
    expect(d.status?.token?.sha256).not.toBe(before.status?.token?.sha256);
    expect(d.status?.token?.sha256).not.toBe(sha256(oldToken));
    expect(d.status?.token?.generation).toBe(2);
    expect(d.status?.revokedTokens?.[0]).toMatchObject({
      id: before.status?.token?.id,
      fingerprint: before.status?.token?.fingerprint,
      reason: 'Rotated',
    });
    expect(d.status?.lastRotation).toMatchObject({ name: 'acme-now', uid: rotation.metadata.uid });
    expect(d.status?.appliedRotations).toContain(rotation.metadata.uid);
    expect(r.status).toMatchObject({
      previousToken: { id: before.status?.token?.id, fingerprint: before.status?.token?.fingerprint },
      newToken: { id: d.status?.token?.id, fingerprint: d.status?.token?.fingerprint },
    });
    expect(r.status?.rotatedAt).toBeTruthy();
    const newToken = secretValue(await scim.getSecret('acme-scim-token'), 'token')!;
    expect(sha256(newToken)).toBe(d.status?.token?.sha256);
    expect((await scim.waitForEvent('acme', 'TokenRotated')).message).toContain('acme-now');
    expect((await scim.waitForEvent('acme-now', 'TokenRotated')).involvedObject?.kind).toBe(
      'ScimTokenRotation',
    );
  });

  it('does nothing more when the same object is applied again (GitOps re-apply)', async () => {
    const d = await scim.getDomain('acme');
    await ctx.objects.patch(
      {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'ScimTokenRotation',
        metadata: { name: 'acme-now', namespace: ctx.namespace },
        spec: { domainRef: { name: 'acme' }, reason: 'token lost' },
      },
      undefined,
      undefined,
      'gitops',
      true,
      PatchStrategy.ServerSideApply,
    );
    await new Promise((r) => setTimeout(r, 2_000));
    const after = await scim.getDomain('acme');
    expect(after.status?.token).toEqual(d.status?.token);
    expect(after.metadata.resourceVersion).toBe(d.metadata.resourceVersion);
  });

  it('cannot be edited once created', async () => {
    try {
      await ctx.custom.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          namespace: ctx.namespace,
          plural: 'scimtokenrotations',
          name: 'acme-now',
          body: { spec: { reason: 'edited' } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      expect.unreachable('the edit was accepted');
    } catch (err) {
      const { code, message } = apiError(err);
      expect(code).toBe(422);
      expect(message).toMatch(/one-shot rotation .* is immutable/);
    }
  });

  it('waits for a domain that appears a little later, then rotates it', async () => {
    await scim.createRotation('late-now', { domainRef: { name: 'late' } });
    const waiting = await scim.waitForRotation('late-now', { reason: 'DomainNotFound', status: 'False' });
    expect(waiting.status?.conditions?.some((c) => c.type === 'Stalled')).toBe(false);
    await scim.createDomain('late', { domain: unique('late') });
    const r = await scim.waitForRotation('late-now', { reason: 'Rotated', status: 'True' });
    const d = await scim.getDomain('late');
    expect(d.status?.token?.generation).toBe(2);
    expect(r.status?.newToken?.id).toBe(d.status?.token?.id);
  });

  it('stalls with DomainNotFound when the domain never appears within the grace period', async () => {
    const created = Date.now();
    await scim.createRotation('ghost-now', { domainRef: { name: 'ghost' } });
    const r = await scim.waitForRotation(
      'ghost-now',
      { reason: 'DomainNotFound', stalled: true, status: 'True' },
      { timeoutMs: 30_000 },
    );
    expect(Date.now() - created).toBeGreaterThanOrEqual(GRACE_S * 1000 - 1000);
    expect(r.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'DomainNotFound',
    });
    expect(r.status?.rotatedAt).toBeUndefined();
  });

  it('stalls with ProvisioningNotEnabled for a suspended domain and leaves it alone', async () => {
    await scim.createDomain('paused', { domain: unique('paused'), suspend: true });
    const d = await scim.waitForReady('paused', { status: 'True', reason: 'Suspended' });
    await scim.createRotation('paused-now', { domainRef: { name: 'paused' } });
    await scim.waitForRotation('paused-now', { reason: 'ProvisioningNotEnabled', status: 'False' });
    await scim.waitForRotation(
      'paused-now',
      { reason: 'ProvisioningNotEnabled', stalled: true },
      { timeoutMs: 30_000 },
    );
    const after = await scim.getDomain('paused');
    expect(after.status?.appliedRotations ?? []).toEqual([]);
    expect(after.status?.revokedTokens).toEqual(d.status?.revokedTokens);
  });

  it('applies 10 rotations of one domain created at once, each exactly once', async () => {
    await scim.createDomain('busy', { domain: unique('busy') });
    const before = await scim.waitForReady('busy');
    const names = Array.from({ length: 10 }, (_, i) => `busy-${i}`);
    const created = await Promise.all(
      names.map((n) => scim.createRotation(n, { domainRef: { name: 'busy' } })),
    );
    const done = await Promise.all(
      names.map((n) => scim.waitForRotation(n, { reason: 'Rotated', status: 'True' }, { timeoutMs: 60_000 })),
    );
    const d = await scim.getDomain('busy');
    expect(d.status?.token?.generation).toBe((before.status?.token?.generation ?? 0) + 10);
    const newIds = done.map((r) => r.status?.newToken?.id);
    expect(new Set(newIds).size).toBe(10);
    expect(new Set(d.status?.appliedRotations)).toEqual(new Set(created.map((r) => r.metadata.uid)));
    // Each rotation revoked exactly the token the one before it issued.
    const previous = new Set(done.map((r) => r.status?.previousToken?.id));
    expect(previous.size).toBe(10);
    expect(previous.has(before.status?.token?.id)).toBe(true);
  });
});

describe('a scheduled rotation', () => {
  it('fires at its schedule time and records the run in history', async () => {
    await scim.createDomain('cron', { domain: unique('cron') });
    const before = await scim.waitForReady('cron');
    await scim.createRotation('cron-every-minute', {
      domainRef: { name: 'cron' },
      schedule: '* * * * *',
      historyLimit: 2,
    });
    const scheduled = await scim.waitForRotation(
      'cron-every-minute',
      { reason: 'Scheduled', status: 'True' },
      { check: (r) => !!r.status?.nextScheduleTime },
    );
    const next = new Date(scheduled.status!.nextScheduleTime!);
    expect(next.getUTCSeconds()).toBe(0);
    const r = await scim.waitForRotation(
      'cron-every-minute',
      { reason: 'Scheduled', status: 'True' },
      { timeoutMs: 90_000, check: (x) => (x.status?.history?.length ?? 0) >= 1 },
    );
    expect(r.status?.history?.[0]).toMatchObject({ scheduledTime: next.toISOString(), result: 'Rotated' });
    expect(r.status?.lastScheduleTime).toBe(next.toISOString());
    expect(new Date(r.status!.nextScheduleTime!).getTime()).toBeGreaterThan(next.getTime());
    const d = await scim.getDomain('cron');
    expect(d.status?.token?.generation).toBe((before.status?.token?.generation ?? 0) + 1);
    expect(r.status?.history?.[0]?.newToken?.id).toBe(d.status?.token?.id);
  }, 120_000);

  it.each([
    ['an impossible cron field', 'bad-cron', { schedule: '61 * * * *' }, /spec.schedule/],
    ['an unknown time zone', 'bad-zone', { schedule: '@daily', timeZone: 'Mars/Olympus' }, /spec.timeZone/],
  ])('stalls with InvalidSpec for %s', async (_what, name, spec, message) => {
    await scim.createRotation(name, { domainRef: { name: 'acme' }, ...spec });
    const r = await scim.waitForRotation(name, { reason: 'InvalidSpec', stalled: true, status: 'True' });
    expect(r.status?.conditions?.find((c) => c.type === 'Ready')?.message).toMatch(message);
  });
});

describe('secrecy', () => {
  it('leaves no token in the operator output, Events or statuses of this file', async () => {
    const n = await assertNoTokenLeaks(ctx, [ctx.namespace], [operator.output()]);
    expect(n).toBeGreaterThanOrEqual(5);
  });
});
