// The operator SIGKILLed at random moments while 50 rotations (5 domains × 10) are being applied,
// and started again each time: every rotation is applied exactly once, every domain ends with one
// valid token, and every token that was ever replaced is rejected by the verifier. Two of the
// restarts arm the failpoint that kills the process between the Secret write and the status write,
// the narrowest window a random kill rarely hits.
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
  createRotationRetrying,
  expectAppliedExactlyOnce,
  expectRotationsReportTheirTokens,
  sleep,
  waitForVerdict,
  type Operator,
} from './support/harness.js';

const ctx = useFaultNamespace('kill');
const ops = new Operators(ctx);
let scim: Scim;
const unique = (base: string) => `${base}-${ctx.namespace}.example`;
const DOMAINS = ['d0', 'd1', 'd2', 'd3', 'd4'];
const PER_DOMAIN = 10;
const KILLS = 6;
const FAILPOINT_RUNS = new Set([2, 4]);
// Filled by the first test, read by the second.
let done: ScimTokenRotation[] = [];
const initialTokenIds = new Map<string, string>();

beforeAll(() => {
  scim = new Scim(ctx, ctx.namespace);
});

afterAll(async () => {
  await ops.stopAll();
});

describe('the operator SIGKILLed at random moments during 50 rotations', () => {
  it('applies each rotation exactly once and leaves every domain with one valid token', async () => {
    let op: Operator = await ops.start('first');
    for (const d of DOMAINS) await scim.createDomain(d, { domain: unique(d) });
    const initial = new Map<string, number>();
    for (const d of DOMAINS) {
      const ready = await scim.waitForReady(d);
      initial.set(d, ready.status!.token!.generation);
      initialTokenIds.set(d, ready.status!.token!.id);
    }
    const sampler = new TokenSampler(scim, DOMAINS, 50).start();
    await sampler.sample();

    // Rotations in a random order across the domains, a few every second, while the killer runs.
    const plan = DOMAINS.flatMap((d) =>
      Array.from({ length: PER_DOMAIN }, (_, i) => ({ d, name: `${d}-r${i}` })),
    );
    plan.sort(() => Math.random() - 0.5);
    const created: { d: string; rotation: ScimTokenRotation }[] = [];
    const creating = (async () => {
      for (const { d, name } of plan) {
        created.push({ d, rotation: await createRotationRetrying(scim, name, d) });
        await sleep(50 + Math.random() * 150);
      }
    })();

    const kills: string[] = [];
    for (let run = 1; run <= KILLS; run++) {
      if (op.name.endsWith('-failpoint')) await Promise.race([op.exited, sleep(10_000)]);
      else await sleep(200 + Math.random() * 1_500);
      const alive = op.child.exitCode === null && op.child.signalCode === null;
      if (alive) op.child.kill('SIGKILL');
      await op.exited;
      kills.push(`${op.name}: ${op.child.signalCode ?? op.child.exitCode}${alive ? '' : ' (failpoint)'}`);
      // The next process starts at once and is not waited for: the next kill may land in its start-up.
      const armed = FAILPOINT_RUNS.has(run);
      op = await ops.start(`run-${run}${armed ? '-failpoint' : ''}`, {
        waitReady: false,
        ...(armed ? { env: { SCIM_FAILPOINT: 'after-secret-write' } } : {}),
      });
    }
    await creating;
    process.stdout.write(`[faults] kills: ${kills.join(', ')}\n`);
    expect(kills.every((k) => k.includes(': SIGKILL'))).toBe(true);

    done = await Promise.all(
      created.map(({ rotation }) =>
        scim.waitForRotation(
          rotation.metadata.name,
          { reason: 'Rotated', status: 'True' },
          { timeoutMs: 180_000 },
        ),
      ),
    );
    await sampler.stop();
    expect(done).toHaveLength(DOMAINS.length * PER_DOMAIN);

    for (const d of DOMAINS) {
      const rotations = done.filter((r) => r.spec.domainRef.name === d);
      expect(rotations).toHaveLength(PER_DOMAIN);
      const domain = await scim.getDomain(d);
      expectAppliedExactlyOnce(domain, initial.get(d)!, rotations);
      const { token } = await consistentToken(scim, d);
      await waitForVerdict(op.verifier, token, 200, `${d}'s current token`);
      // The last ten revocations are the ten tokens before the current one, each revoked by a rotation.
      const revoked = domain.status?.revokedTokens ?? [];
      expect(revoked).toHaveLength(PER_DOMAIN);
      expect(revoked.every((t) => t.reason === 'Rotated')).toBe(true);
      expect(new Set([...revoked.map((t) => t.id), domain.status!.token!.id]).size).toBe(PER_DOMAIN + 1);
    }

    // Every token a Secret ever held, except the five current ones, is rejected.
    const current = new Set<string>();
    for (const d of DOMAINS) current.add((await consistentToken(scim, d)).token);
    const replaced = sampler.all().filter((t) => !current.has(t));
    expect(replaced.length).toBeGreaterThanOrEqual(DOMAINS.length);
    for (const t of replaced) {
      const answer = await verify(op.verifier, t);
      expect([answer.status, answer.reason === 'revoked' || answer.reason === 'unknown']).toEqual([
        401,
        true,
      ]);
    }
  });

  it('every rotation reports the token it replaced and the one it issued, chained without gaps', async () => {
    expect(done).toHaveLength(DOMAINS.length * PER_DOMAIN);
    for (const d of DOMAINS) {
      expectRotationsReportTheirTokens(
        await scim.getDomain(d),
        initialTokenIds.get(d)!,
        done.filter((r) => r.spec.domainRef.name === d),
      );
    }
  });

  it('leaves no token in the output of any process, Events or statuses', async () => {
    await ops.stopAll();
    await assertNoTokenLeaks(ctx, [ctx.namespace], ops.outputs());
  });
});
