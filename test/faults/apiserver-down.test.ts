// The API server down: the verifier keeps answering from its index (a valid token stays 200, a
// revoked one stays 401), and once it can reach the API server again it catches up with what
// changed meanwhile (the tokens revoked during its outage are rejected).
//
// Two replicas, as the chart runs them without leader election: `direct` talks to the API server,
// `cut` goes through a proxy. First kube-apiserver itself is stopped: both verifiers answer from
// their index. Then, with it running again, only `cut` loses it (proxy down) while `direct` applies
// a rotation: `cut` goes on answering, and rejects the rotated-out token once the proxy is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToken } from '../../src/rules/token.js';
import { assertNoTokenLeaks } from '../integration/support/leak.js';
import { Scim } from '../integration/support/scim.js';
import { verify } from '../integration/support/verifier.js';
import { randomBytes } from 'node:crypto';
import { useFaultNamespace } from './support/context.js';
import {
  Operators,
  consistentToken,
  createRotationRetrying,
  sleep,
  waitForVerdict,
  type Operator,
} from './support/harness.js';
import { planeProcess } from './support/plane.js';
import { startApiServerProxy, type ApiServerProxy } from '../support/tcp-proxy.js';

const ctx = useFaultNamespace('apidown');
const ops = new Operators(ctx);
let scim: Scim;
let proxy: ApiServerProxy;
let direct: Operator;
let cut: Operator;
const unique = (base: string) => `${base}-${ctx.namespace}.example`;
const tokens: { valid: string[]; revoked: string[] } = { valid: [], revoked: [] };

beforeAll(async () => {
  scim = new Scim(ctx, ctx.namespace);
  proxy = await startApiServerProxy(ctx.kc, ctx.namespace);
  direct = await ops.start('direct');
  cut = await ops.start('cut', { kubeconfig: proxy.kubeconfig });
});

afterAll(async () => {
  await ops.stopAll();
  await proxy?.close();
});

/** Checks every known token against a verifier, repeatedly for `ms`. */
async function answersFromIndex(op: Operator, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  const unknown = generateToken((n) => randomBytes(n));
  let rounds = 0;
  do {
    for (const t of tokens.valid)
      expect((await verify(op.verifier, t)).status, `${op.name}: valid`).toBe(200);
    for (const t of tokens.revoked) {
      const answer = await verify(op.verifier, t);
      expect([answer.status, answer.reason], `${op.name}: revoked`).toEqual([401, 'revoked']);
    }
    expect((await verify(op.verifier, unknown)).status).toBe(401);
    rounds++;
    await sleep(200);
  } while (Date.now() < deadline);
  return rounds;
}

describe('the API server down', () => {
  it('both verifiers keep answering from their index while kube-apiserver is stopped', async () => {
    for (const d of ['alpha', 'beta']) await scim.createDomain(d, { domain: unique(d) });
    await scim.waitForReady('alpha');
    await scim.waitForReady('beta');
    const { token: betaOld } = await consistentToken(scim, 'beta');
    await createRotationRetrying(scim, 'beta-once', 'beta');
    await scim.waitForRotation('beta-once', { reason: 'Rotated', status: 'True' });
    tokens.valid = [
      (await consistentToken(scim, 'alpha')).token,
      (await consistentToken(scim, 'beta')).token,
    ];
    tokens.revoked = [betaOld];
    for (const op of [direct, cut]) {
      for (const t of tokens.valid) await waitForVerdict(op.verifier, t, 200, 'valid before the outage');
      await waitForVerdict(op.verifier, betaOld, 401, 'revoked before the outage');
    }

    await planeProcess('stop', 'kube-apiserver');
    try {
      for (const op of [direct, cut]) expect(await answersFromIndex(op, 3_000)).toBeGreaterThan(1);
    } finally {
      // `cut` stays cut off when the API server comes back (next test).
      proxy.setDown(true);
      await planeProcess('start', 'kube-apiserver');
    }
    expect(direct.output()).toMatch(/informer failed; restarting with a fresh list/);
  });

  it('the cut-off verifier goes on answering while a rotation happens without it, then catches up', async () => {
    const { token: alphaOld } = await consistentToken(scim, 'alpha');
    await createRotationRetrying(scim, 'alpha-while-cut', 'alpha');
    await scim.waitForRotation(
      'alpha-while-cut',
      { reason: 'Rotated', status: 'True' },
      { timeoutMs: 120_000 },
    );
    const { token: alphaNew } = await consistentToken(scim, 'alpha');
    await waitForVerdict(direct.verifier, alphaOld, 401, 'alpha rotated out (direct)');
    await waitForVerdict(direct.verifier, alphaNew, 200, 'alpha new token (direct)');

    // Still cut off: what it knew stays true (beta valid, beta's old token revoked).
    tokens.valid = tokens.valid.filter((t) => t !== alphaOld);
    expect(await answersFromIndex(cut, 2_000)).toBeGreaterThan(1);

    proxy.setDown(false);
    const back = Date.now();
    // Its ScimDomain watch comes back after its restart backoff (jittered, at most 5 s).
    await waitForVerdict(cut.verifier, alphaOld, 401, 'alpha rotated out (after the outage)', 120_000);
    process.stdout.write(
      `[faults] the cut-off verifier rejected the rotated-out token ${Date.now() - back} ms after it could reach the API server again\n`,
    );
    expect((await verify(cut.verifier, alphaOld)).reason).toBe('revoked');
    await waitForVerdict(cut.verifier, alphaNew, 200, 'alpha new token (after the outage)');
    tokens.valid.push(alphaNew);
    tokens.revoked.push(alphaOld);
    await answersFromIndex(cut, 0);
    for (const op of [direct, cut]) expect(op.child.exitCode).toBeNull();
  });

  it('leaves no token in the output of either process, Events or statuses', async () => {
    await ops.stopAll();
    await assertNoTokenLeaks(ctx, [ctx.namespace], ops.outputs());
  });
});
