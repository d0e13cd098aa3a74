// The ScimDomain controller on the real API server (SPEC §1.1, §2.1, §2.3, §2.4, §2.5).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTokenFormat } from '../../src/rules/token.js';
import { useTestNamespace } from './support/context.js';
import { RUN_LABEL, waitFor } from './support/kube.js';
import { assertNoTokenLeaks } from './support/leak.js';
import { saveOutput, startOperator, type OperatorProcess } from './support/operator.js';
import { Scim, secretValue } from './support/scim.js';
import { sha256 } from '../support/hashes.js';

const ctx = useTestNamespace('dom');
const POD = 'scim-token-operator-6d5f7c9b8-x2k4q';
let scim: Scim;
let other: string;
let operator: OperatorProcess;
const unique = (base: string) => `${base}-${ctx.runId}.example`;

beforeAll(async () => {
  other = `${ctx.namespace}-b`;
  await ctx.core.createNamespace({ body: { metadata: { name: other, labels: { [RUN_LABEL]: ctx.runId } } } });
  scim = new Scim(ctx, ctx.namespace);
  operator = await startOperator({
    kubeconfig: ctx.kubeconfig,
    namespaces: [ctx.namespace, other],
    args: ['--resync-period', '1s'],
    // As the chart's downward API sets it.
    env: { POD_NAME: POD },
  });
});

afterAll(async () => {
  if (operator) {
    await operator.stop();
    saveOutput(ctx.runId, 'scimdomain', operator.output());
  }
  await ctx.core.deleteNamespace({ name: other }).catch(() => undefined);
});

describe('issuing a token for a new ScimDomain', () => {
  it('writes an owned Secret of type scim.tokens.dev/token with the token, its hash, its id and the domain', async () => {
    const created = await scim.createDomain('issue', {
      domain: unique('issue'),
      scimBaseUrl: 'https://app.example.com/scim/v2',
    });
    const d = await scim.waitForReady('issue');
    const s = await scim.getSecret('issue-scim-token');
    expect(s?.type).toBe('scim.tokens.dev/token');
    expect(Object.keys(s?.data ?? {}).sort()).toEqual([
      'domain',
      'scimBaseUrl',
      'token',
      'token-id',
      'token-sha256',
    ]);
    expect(secretValue(s, 'domain')).toBe(unique('issue'));
    expect(secretValue(s, 'scimBaseUrl')).toBe('https://app.example.com/scim/v2');
    expect(secretValue(s, 'token-id')).toBe(d.status?.token?.id);
    expect(s?.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('scim-token-operator');
    expect(s?.metadata?.ownerReferences).toEqual([
      expect.objectContaining({
        apiVersion: 'scim.tokens.dev/v1alpha1',
        kind: 'ScimDomain',
        name: 'issue',
        uid: created.metadata.uid,
        controller: true,
      }),
    ]);
  });

  it('stamps status with Ready=True TokenIssued for the observed generation and describes the token without it', async () => {
    const d = await scim.getDomain('issue');
    expect(d.status?.observedGeneration).toBe(d.metadata.generation);
    expect(d.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      reason: 'TokenIssued',
      observedGeneration: d.metadata.generation,
    });
    expect(d.status?.conditions?.map((c) => c.type)).toEqual(['Ready']);
    expect(d.status?.secretName).toBe('issue-scim-token');
    expect(d.status?.token).toEqual({
      id: expect.stringMatching(/^tok-/) as string,
      fingerprint: expect.stringMatching(/^sha256:[0-9a-f]{12}$/) as string,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/) as string,
      issuedAt: expect.any(String) as string,
      generation: 1,
    });
  });

  it('issues a token in the SPEC format whose checksum verifies', async () => {
    const token = secretValue(await scim.getSecret('issue-scim-token'), 'token')!;
    expect(token).toMatch(/^sct_[0-9A-Za-z]{46}$/);
    expect(checkTokenFormat(token)).toBe('ok');
  });

  it('records the SHA-256 of the Secret token in status.token.sha256 and the Secret', async () => {
    const s = await scim.getSecret('issue-scim-token');
    const d = await scim.getDomain('issue');
    const token = secretValue(s, 'token')!;
    expect(d.status?.token?.sha256).toBe(sha256(token));
    expect(secretValue(s, 'token-sha256')).toBe(sha256(token));
    expect(d.status?.token?.fingerprint).toBe(`sha256:${sha256(token).slice(0, 12)}`);
  });

  it('emits a TokenIssued Event naming the token id, not the token', async () => {
    const d = await scim.getDomain('issue');
    const e = await scim.waitForEvent('issue', 'TokenIssued');
    expect(e.type).toBe('Normal');
    expect(e.message).toContain(d.status!.token!.id);
    expect(e.involvedObject).toMatchObject({ kind: 'ScimDomain', name: 'issue', uid: d.metadata.uid });
  });

  it('names the pod that reported it (POD_NAME) in the Event', async () => {
    const e = await scim.waitForEvent('issue', 'TokenIssued');
    expect(e).toMatchObject({
      reportingComponent: 'scim-token-operator',
      reportingInstance: POD,
      source: { component: 'scim-token-operator', host: POD },
    });
  });

  it('writes nothing on a resync with nothing to do (resourceVersions stay the same)', async () => {
    const before = [
      (await scim.getDomain('issue')).metadata.resourceVersion,
      (await scim.getSecret('issue-scim-token'))?.metadata?.resourceVersion,
    ];
    const reconciles = async () => {
      const text = await (await fetch(`${operator.metricsUrl}/metrics`)).text();
      const m = /scim_reconcile_total\{controller="scimdomain",result="success"\} (\d+)/.exec(text);
      return Number(m?.[1] ?? 0);
    };
    const start = await reconciles();
    // --resync-period 1s: wait until the operator has reconciled the domains again several times.
    await waitFor('three more resyncs', async () => ((await reconciles()) >= start + 3 ? true : undefined), {
      timeoutMs: 20_000,
    });
    const after = [
      (await scim.getDomain('issue')).metadata.resourceVersion,
      (await scim.getSecret('issue-scim-token'))?.metadata?.resourceVersion,
    ];
    expect(after).toEqual(before);
  });
});

describe('the Secret follows the ScimDomain', () => {
  it('is garbage-collected after the ScimDomain is deleted', async () => {
    await scim.createDomain('gc', { domain: unique('gc') });
    await scim.waitForReady('gc');
    expect(await scim.getSecret('gc-scim-token')).toBeDefined();
    await scim.deleteDomain('gc');
    await waitFor(
      'the Secret to be collected',
      async () => ((await scim.getSecret('gc-scim-token')) === undefined ? true : undefined),
      { timeoutMs: 60_000 },
    );
  });

  it('moves the token when spec.secretName changes and deletes the old Secret', async () => {
    await scim.createDomain('move', { domain: unique('move') });
    const before = await scim.waitForReady('move');
    const token = secretValue(await scim.getSecret('move-scim-token'), 'token');
    await scim.patchDomainSpec('move', { secretName: 'moved-here' });
    await scim.waitForReady(
      'move',
      { status: 'True', reason: 'TokenIssued' },
      undefined,
      (d) => d.status?.secretName === 'moved-here',
    );
    const moved = await scim.getSecret('moved-here');
    expect(secretValue(moved, 'token')).toBe(token);
    expect((await scim.getDomain('move')).status?.token).toEqual(before.status?.token);
    await waitFor('the old Secret to be deleted', async () =>
      (await scim.getSecret('move-scim-token')) === undefined ? true : undefined,
    );
  });

  it('never overwrites a Secret of that name that it does not own (SecretConflict)', async () => {
    const existing = await ctx.core.createNamespacedSecret({
      namespace: ctx.namespace,
      body: { metadata: { name: 'taken-scim-token' }, stringData: { token: 'not-ours' } },
    });
    await scim.createDomain('taken', { domain: unique('taken') });
    const d = await scim.waitForReady('taken', { status: 'False', reason: 'SecretConflict' });
    expect(d.status?.token).toBeUndefined();
    expect(d.status?.conditions?.find((c) => c.type === 'Stalled')).toMatchObject({
      status: 'True',
      reason: 'SecretConflict',
    });
    await scim.waitForEvent('taken', 'SecretConflict');
    const after = await ctx.core.readNamespacedSecret({ namespace: ctx.namespace, name: 'taken-scim-token' });
    expect(after.metadata?.resourceVersion).toBe(existing.metadata?.resourceVersion);
    expect(secretValue(after, 'token')).toBe('not-ours');
  });
});

describe('one domain, one owner', () => {
  it('refuses a second claim in another namespace (DomainConflict) and hands over when the owner goes', async () => {
    const domain = unique('shared');
    await scim.createDomain('first', { domain });
    await scim.waitForReady('first');
    await scim.createDomain('second', { domain }, other);
    const loser = await scim.waitForReady('second', { status: 'False', reason: 'DomainConflict' }, other);
    const ready = loser.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.message).toContain(`${ctx.namespace}/first`);
    expect(loser.status?.conditions?.find((c) => c.type === 'Stalled')?.status).toBe('True');
    expect(loser.status?.token).toBeUndefined();
    expect(await scim.getSecret('second-scim-token', other)).toBeUndefined();
    await scim.waitForEvent('second', 'DomainConflict', other);

    await scim.deleteDomain('first');
    const winner = await scim.waitForReady('second', { status: 'True', reason: 'TokenIssued' }, other);
    expect(winner.status?.conditions?.some((c) => c.type === 'Stalled')).toBe(false);
    expect(secretValue(await scim.getSecret('second-scim-token', other), 'token-sha256')).toBe(
      winner.status?.token?.sha256,
    );
  });
});

describe('suspending', () => {
  it('revokes the token, removes the plaintext, and a new token is issued on unsuspend', async () => {
    await scim.createDomain('pause', { domain: unique('pause') });
    const issued = await scim.waitForReady('pause');
    await scim.patchDomainSpec('pause', { suspend: true });
    const suspended = await scim.waitForReady('pause', { status: 'True', reason: 'Suspended' });
    expect(suspended.status?.token).toBeUndefined();
    expect(suspended.status?.revokedTokens?.[0]).toMatchObject({
      id: issued.status?.token?.id,
      fingerprint: issued.status?.token?.fingerprint,
      reason: 'Suspended',
    });
    await waitFor('the plaintext to leave the Secret', async () => {
      const s = await scim.getSecret('pause-scim-token');
      return s && secretValue(s, 'token') === undefined ? s : undefined;
    });
    await scim.waitForEvent('pause', 'TokenRevoked');

    await scim.patchDomainSpec('pause', { suspend: false });
    const resumed = await scim.waitForReady('pause');
    expect(resumed.status?.token?.sha256).not.toBe(issued.status?.token?.sha256);
    expect(resumed.status?.token?.generation).toBe(2);
    const s = await scim.getSecret('pause-scim-token');
    expect(sha256(secretValue(s, 'token')!)).toBe(resumed.status?.token?.sha256);
  });
});

describe('a Secret the operator can no longer trust', () => {
  it('is re-issued with SecretLost when deleted', async () => {
    await scim.createDomain('lost', { domain: unique('lost') });
    const before = await scim.waitForReady('lost');
    await ctx.core.deleteNamespacedSecret({ namespace: ctx.namespace, name: 'lost-scim-token' });
    const after = await scim.waitForReady(
      'lost',
      undefined,
      undefined,
      (d) => d.status?.token?.sha256 !== before.status?.token?.sha256,
    );
    expect(after.status?.revokedTokens?.[0]).toMatchObject({
      id: before.status?.token?.id,
      reason: 'SecretLost',
    });
    const e = await scim.waitForEvent('lost', 'SecretLost');
    expect(e.type).toBe('Warning');
    const s = await scim.getSecret('lost-scim-token');
    expect(sha256(secretValue(s, 'token')!)).toBe(after.status?.token?.sha256);
  });

  it('is re-issued with SecretTampered when edited by hand', async () => {
    await scim.createDomain('tamper', { domain: unique('tamper') });
    const before = await scim.waitForReady('tamper');
    const s = await scim.getSecret('tamper-scim-token');
    s!.data!.token = Buffer.from('sct_thisIsNotTheTokenThatWasIssuedByTheOperat0r').toString('base64');
    await ctx.core.replaceNamespacedSecret({ namespace: ctx.namespace, name: 'tamper-scim-token', body: s! });
    const after = await scim.waitForReady(
      'tamper',
      undefined,
      undefined,
      (d) => d.status?.token?.sha256 !== before.status?.token?.sha256,
    );
    expect(after.status?.revokedTokens?.[0]).toMatchObject({
      id: before.status?.token?.id,
      reason: 'SecretTampered',
    });
    expect((await scim.waitForEvent('tamper', 'SecretTampered')).type).toBe('Warning');
    const fixed = await scim.getSecret('tamper-scim-token');
    expect(sha256(secretValue(fixed, 'token')!)).toBe(after.status?.token?.sha256);
  });
});

describe('reveal once', () => {
  it('removes the plaintext once revealed, keeps token-sha256, and the token stays valid', async () => {
    await scim.createDomain('once', { domain: unique('once'), revealOnce: true });
    const before = await scim.waitForReady('once');
    const s = await scim.getSecret('once-scim-token');
    expect(secretValue(s, 'token')).toBeDefined();
    await ctx.core.patchNamespacedSecret(
      {
        namespace: ctx.namespace,
        name: 'once-scim-token',
        body: { metadata: { annotations: { 'scim.tokens.dev/revealed': 'true' } } },
      },
      (await import('@kubernetes/client-node')).setHeaderOptions(
        'Content-Type',
        'application/merge-patch+json',
      ),
    );
    const after = await waitFor('the plaintext to be removed', async () => {
      const x = await scim.getSecret('once-scim-token');
      return x && secretValue(x, 'token') === undefined ? x : undefined;
    });
    expect(secretValue(after, 'token-sha256')).toBe(before.status?.token?.sha256);
    const d = await scim.waitForReady('once');
    expect(d.status?.token).toEqual(before.status?.token);
    // Not mistaken for tampering on later reconciles.
    await new Promise((r) => setTimeout(r, 2_500));
    expect((await scim.getDomain('once')).status?.token).toEqual(before.status?.token);
  });
});

describe('secrecy', () => {
  it('leaves no token in the operator output, Events or statuses of this file', async () => {
    const n = await assertNoTokenLeaks(ctx, [ctx.namespace, other], [operator.output()]);
    expect(n).toBeGreaterThanOrEqual(8);
  });
});
