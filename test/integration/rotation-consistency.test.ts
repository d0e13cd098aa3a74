// Exactly-once rotation without leaning on leader election (SPEC §2.2, §2.6): two operator
// processes at once, and a crash between the Secret write and the status write.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestNamespace } from './support/context.js';
import { assertNoTokenLeaks } from './support/leak.js';
import { saveOutput, startOperator, type OperatorProcess } from './support/operator.js';
import { Scim, secretValue } from './support/scim.js';
import { sha256 } from '../support/hashes.js';

const ctx = useTestNamespace('once');
let scim: Scim;
const outputs: string[] = [];
const running: OperatorProcess[] = [];
const unique = (base: string) => `${base}-${ctx.runId}.example`;

async function start(name: string, env?: Record<string, string>): Promise<OperatorProcess> {
  const op = await startOperator({
    kubeconfig: ctx.kubeconfig,
    namespaces: [ctx.namespace],
    ...(env ? { env } : {}),
  });
  running.push(op);
  void op.exited.then(() => {
    outputs.push(op.output());
    saveOutput(ctx.runId, `consistency-${name}`, op.output());
  });
  return op;
}

beforeAll(() => {
  scim = new Scim(ctx, ctx.namespace);
});

afterAll(async () => {
  await Promise.all(running.map((op) => op.stop()));
});

describe('two operator processes without leader election', () => {
  it('apply each of 10 concurrent rotations exactly once', async () => {
    const a = await start('a');
    const b = await start('b');
    await scim.createDomain('twin', { domain: unique('twin') });
    const before = await scim.waitForReady('twin');
    const names = Array.from({ length: 10 }, (_, i) => `twin-${i}`);
    const created = await Promise.all(
      names.map((n) => scim.createRotation(n, { domainRef: { name: 'twin' } })),
    );
    const done = await Promise.all(
      names.map((n) => scim.waitForRotation(n, { reason: 'Rotated', status: 'True' }, { timeoutMs: 60_000 })),
    );
    const d = await scim.getDomain('twin');
    expect(d.status?.token?.generation).toBe((before.status?.token?.generation ?? 0) + 10);
    expect([...(d.status?.appliedRotations ?? [])].sort()).toEqual(created.map((r) => r.metadata.uid).sort());
    expect(new Set(done.map((r) => r.status?.newToken?.id)).size).toBe(10);
    // The revocation chain is unbroken: every token but the last was revoked by exactly one rotation.
    const revokedByRotation = d.status?.revokedTokens?.filter((t) => t.reason === 'Rotated') ?? [];
    expect(new Set(revokedByRotation.map((t) => t.id)).size).toBe(revokedByRotation.length);
    expect(sha256(secretValue(await scim.getSecret('twin-scim-token'), 'token')!)).toBe(
      d.status?.token?.sha256,
    );
    await Promise.all([a.stop(), b.stop()]);
  });
});

describe('a crash between the Secret write and the status write', () => {
  it('completes the rotation once after a restart, adopting the token already in the Secret', async () => {
    const first = await start('issuer');
    await scim.createDomain('crash', { domain: unique('crash') });
    const before = await scim.waitForReady('crash');
    await first.stop();

    const doomed = await start('failpoint', { SCIM_FAILPOINT: 'after-secret-write' });
    const rotation = await scim.createRotation('crash-now', { domainRef: { name: 'crash' } });
    await doomed.exited;
    expect(doomed.child.signalCode).toBe('SIGKILL');

    // The Secret already holds the new token; status still records the old one as current.
    const written = secretValue(await scim.getSecret('crash-scim-token'), 'token')!;
    const mid = await scim.getDomain('crash');
    expect(sha256(written)).not.toBe(before.status?.token?.sha256);
    expect(mid.status?.token).toEqual(before.status?.token);
    expect(mid.status?.appliedRotations ?? []).not.toContain(rotation.metadata.uid);

    await start('recovery');
    const r = await scim.waitForRotation('crash-now', { reason: 'Rotated', status: 'True' });
    const d = await scim.getDomain('crash');
    expect(d.status?.token?.sha256).toBe(sha256(written));
    expect(sha256(secretValue(await scim.getSecret('crash-scim-token'), 'token')!)).toBe(sha256(written));
    expect(d.status?.token?.generation).toBe((before.status?.token?.generation ?? 0) + 1);
    expect(d.status?.appliedRotations?.filter((u) => u === rotation.metadata.uid)).toHaveLength(1);
    expect(d.status?.revokedTokens?.[0]).toMatchObject({ id: before.status?.token?.id, reason: 'Rotated' });
    expect(r.status?.newToken?.id).toBe(d.status?.token?.id);
  });
});

describe('secrecy', () => {
  it('leaves no token in the output of any process, Events or statuses of this file', async () => {
    await Promise.all(running.map((op) => op.stop()));
    expect(outputs.length).toBe(running.length);
    await assertNoTokenLeaks(ctx, [ctx.namespace], outputs);
  });
});
