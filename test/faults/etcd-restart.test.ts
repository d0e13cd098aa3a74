// etcd stopped and started again under a running API server: the operator and its verifier recover
// by themselves. While etcd is down the verifier answers from its index; once it is back, a new
// domain gets a token, a rotation revokes the old one, and the verifier answers accordingly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertNoTokenLeaks } from '../integration/support/leak.js';
import { Scim } from '../integration/support/scim.js';
import { verify } from '../integration/support/verifier.js';
import { useFaultNamespace } from './support/context.js';
import {
  Operators,
  consistentToken,
  createRetrying,
  createRotationRetrying,
  sleep,
  waitForVerdict,
  type Operator,
} from './support/harness.js';
import { planeProcess } from './support/plane.js';

const ctx = useFaultNamespace('etcd');
const ops = new Operators(ctx);
let scim: Scim;
let op: Operator;
const unique = (base: string) => `${base}-${ctx.namespace}.example`;

beforeAll(async () => {
  scim = new Scim(ctx, ctx.namespace);
  op = await ops.start('operator');
});

afterAll(async () => {
  await ops.stopAll();
});

describe('etcd restarted', () => {
  it('the verifier answers from its index while etcd is down', async () => {
    await scim.createDomain('steady', { domain: unique('steady') });
    await scim.waitForReady('steady');
    const { token } = await consistentToken(scim, 'steady');
    await waitForVerdict(op.verifier, token, 200, 'steady token');

    await planeProcess('stop', 'etcd');
    try {
      // The API server is up but cannot read or write; the verifier does not need it.
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline) {
        expect((await verify(op.verifier, token)).status).toBe(200);
        await sleep(250);
      }
    } finally {
      await planeProcess('start', 'etcd');
    }
  });

  it('the operator issues a token to a domain created after etcd is back, and the verifier accepts it', async () => {
    await createRetrying(
      'ScimDomain after created',
      () => scim.createDomain('after', { domain: unique('after') }),
      () => scim.getDomain('after'),
    );
    await scim.waitForReady('after');
    const { token } = await consistentToken(scim, 'after');
    await waitForVerdict(op.verifier, token, 200, 'the new domain token');
  });

  it('a rotation after the restart revokes the old token in the verifier', async () => {
    const { token: old } = await consistentToken(scim, 'steady');
    await createRotationRetrying(scim, 'steady-after-etcd', 'steady');
    await scim.waitForRotation(
      'steady-after-etcd',
      { reason: 'Rotated', status: 'True' },
      { timeoutMs: 120_000 },
    );
    const { token: current } = await consistentToken(scim, 'steady');
    expect(current).not.toBe(old);
    await waitForVerdict(op.verifier, old, 401, 'the rotated-out token');
    expect((await verify(op.verifier, old)).reason).toBe('revoked');
    await waitForVerdict(op.verifier, current, 200, 'the new token');
    // The same process throughout.
    expect(op.child.exitCode).toBeNull();
    expect(op.child.signalCode).toBeNull();
  });

  it('leaves no token in the output of the operator, Events or statuses', async () => {
    await ops.stopAll();
    await assertNoTokenLeaks(ctx, [ctx.namespace], ops.outputs());
  });
});
