// The verifier (SPEC §4, §2.5) in the real operator process against the real API server: what it
// answers for the tokens the operator issued, and that suspension, deletion and re-issuing revoke.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToken } from '../../src/rules/token.js';
import { useTestNamespace } from './support/context.js';
import { assertNoTokenLeaks } from './support/leak.js';
import { saveOutput, startOperator, type OperatorProcess } from './support/operator.js';
import { Scim, secretValue } from './support/scim.js';
import { call, recordDelay, timeUntil, verify, verifierListening } from './support/verifier.js';

const ctx = useTestNamespace('ver');
let scim: Scim;
let operator: OperatorProcess;
let url: string;
const unique = (base: string) => `${base}-${ctx.runId}.example`;
const wellFormedUnknown = () => generateToken((n) => randomBytes(n));

/** Creates a domain, waits for its token and returns it with the domain's status. */
async function issued(name: string, spec: Record<string, unknown> = {}) {
  await scim.createDomain(name, { domain: unique(name), ...spec });
  const d = await scim.waitForReady(name);
  const token = secretValue(await scim.getSecret(`${name}-scim-token`), 'token')!;
  // The status we read and the verifier's watch are two views: wait until the verifier has it too.
  await timeUntil(
    `the verifier to accept ${name}'s token`,
    async () => (await verify(url, token)).status === 200,
  );
  return { token, domain: d };
}

beforeAll(async () => {
  scim = new Scim(ctx, ctx.namespace);
  operator = await startOperator({ kubeconfig: ctx.kubeconfig, namespaces: [ctx.namespace] });
  url = (await verifierListening(operator)).verifier;
});

afterAll(async () => {
  if (operator) {
    await operator.stop();
    saveOutput(ctx.runId, 'verifier', operator.output());
  }
});

describe('GET /v1/verify', () => {
  it('answers 200 with the domain, its ref, invitations, IdP and token id for a current token', async () => {
    const { token, domain } = await issued('acme', { identityProvider: 'Okta', sendEmailInvitations: false });
    const r = await verify(url, token);
    expect(r.status).toBe(200);
    expect(r.headers).toMatchObject({
      'x-scim-domain': unique('acme'),
      'x-scim-domain-ref': `${ctx.namespace}/acme`,
      'x-scim-send-invitations': 'false',
      'x-scim-identity-provider': 'Okta',
      'x-scim-token-id': domain.status!.token!.id,
    });
  });

  it('answers 401 missing without an error code when there is no bearer token', async () => {
    const r = await verify(url, undefined);
    expect(r.status).toBe(401);
    expect(r.reason).toBe('missing');
    expect(r.headers['www-authenticate']).toBe('Bearer realm="scim"');
  });

  it('answers 401 malformed for a credential that fails the format or checksum check', async () => {
    const { token } = await issued('checksum');
    const flipped = token.slice(0, -1) + (token.endsWith('0') ? '1' : '0');
    for (const t of ['hello', flipped, `${token}0`]) {
      const r = await verify(url, t);
      expect([r.status, r.reason]).toEqual([401, 'malformed']);
      expect(r.headers['www-authenticate']).toBe('Bearer realm="scim", error="invalid_token"');
    }
  });

  it('answers 401 unknown for a well-formed token nobody issued', async () => {
    const r = await verify(url, wellFormedUnknown());
    expect([r.status, r.reason]).toEqual([401, 'unknown']);
  });

  it('answers on /readyz of the verifier port once synced', async () => {
    expect((await call(url, '/readyz')).status).toBe(200);
  });
});

describe('POST /v1/tokenreviews', () => {
  it('authenticates the current token and describes the domain', async () => {
    const { token, domain } = await issued('review', { identityProvider: 'EntraID' });
    const r = await call(url, '/v1/tokenreviews', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'scim.tokens.dev/v1alpha1', kind: 'TokenReview', spec: { token } }),
    });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({
      apiVersion: 'scim.tokens.dev/v1alpha1',
      kind: 'TokenReview',
      status: {
        authenticated: true,
        domain: unique('review'),
        domainRef: `${ctx.namespace}/review`,
        sendEmailInvitations: true,
        identityProvider: 'EntraID',
        tokenId: domain.status!.token!.id,
      },
    });
  });

  it('does not authenticate an unknown token and says why', async () => {
    const r = await call(url, '/v1/tokenreviews', {
      method: 'POST',
      body: JSON.stringify({ spec: { token: wellFormedUnknown() } }),
    });
    expect(JSON.parse(r.body)).toMatchObject({ status: { authenticated: false, reason: 'unknown' } });
  });
});

describe('revocation reaches the verifier', () => {
  it('rejects the token as revoked once the domain is suspended, and accepts the new one after resuming', async () => {
    const { token: old } = await issued('pause');
    const since = Date.now();
    await scim.patchDomainSpec('pause', { suspend: true });
    const ms = await timeUntil(
      'the suspended token to be rejected',
      async () => (await verify(url, old)).status === 401,
      since,
    );
    recordDelay(ctx.runId, 'suspend → old token rejected', ms);
    expect((await verify(url, old)).reason).toBe('revoked');

    // The verifier rejects from the spec change on; the operator records the revocation in status a
    // moment later. Resuming before that would undo a suspension the operator never saw.
    await scim.waitForReady('pause', { status: 'True', reason: 'Suspended' });
    await scim.patchDomainSpec('pause', { suspend: false });
    const resumed = await scim.waitForReady(
      'pause',
      undefined,
      undefined,
      (d) => d.status?.token !== undefined,
    );
    const fresh = secretValue(await scim.getSecret('pause-scim-token'), 'token')!;
    expect(fresh).not.toBe(old);
    await timeUntil('the new token to be accepted', async () => (await verify(url, fresh)).status === 200);
    expect((await verify(url, fresh)).headers['x-scim-token-id']).toBe(resumed.status!.token!.id);
    // Listed in revokedTokens (reason Suspended), so still answered as revoked, not unknown.
    expect((await verify(url, old)).reason).toBe('revoked');
  });

  it('rejects the token as revoked once the domain is deleted', async () => {
    const { token } = await issued('gone');
    const since = Date.now();
    await scim.deleteDomain('gone');
    const ms = await timeUntil(
      'the deleted domain’s token to be rejected',
      async () => (await verify(url, token)).status === 401,
      since,
    );
    recordDelay(ctx.runId, 'delete → token rejected', ms);
    expect((await verify(url, token)).reason).toBe('revoked');
  });

  it('rejects the old token and accepts the new one when the operator re-issues (Secret edited by hand)', async () => {
    const { token: old, domain: before } = await issued('tamper');
    const s = await scim.getSecret('tamper-scim-token');
    s!.data!.token = Buffer.from(wellFormedUnknown()).toString('base64');
    const since = Date.now();
    await ctx.core.replaceNamespacedSecret({ namespace: ctx.namespace, name: 'tamper-scim-token', body: s! });
    const ms = await timeUntil(
      'the replaced token to be rejected',
      async () => (await verify(url, old)).status === 401,
      since,
    );
    recordDelay(ctx.runId, 'SecretTampered re-issue → old token rejected', ms);
    const after = await scim.waitForReady(
      'tamper',
      undefined,
      undefined,
      (d) => d.status?.token?.sha256 !== before.status?.token?.sha256,
    );
    const fresh = secretValue(await scim.getSecret('tamper-scim-token'), 'token')!;
    await timeUntil(
      'the re-issued token to be accepted',
      async () => (await verify(url, fresh)).status === 200,
    );
    expect((await verify(url, fresh)).headers['x-scim-token-id']).toBe(after.status!.token!.id);
    expect((await verify(url, old)).reason).toBe('revoked');
  });

  it('rejects the old token as revoked and accepts the new one after a ScimTokenRotation', async () => {
    const { token: old } = await issued('turn');
    const since = Date.now();
    await scim.createRotation('turn-now', { domainRef: { name: 'turn' }, reason: 'verifier test' });
    const ms = await timeUntil(
      'the rotated-out token to be rejected',
      async () => (await verify(url, old)).status === 401,
      since,
    );
    recordDelay(ctx.runId, 'rotation created → old token rejected', ms);
    const rotation = await scim.waitForRotation('turn-now', { reason: 'Rotated', status: 'True' });
    const fresh = secretValue(await scim.getSecret('turn-scim-token'), 'token')!;
    await timeUntil('the new token to be accepted', async () => (await verify(url, fresh)).status === 200);
    expect((await verify(url, fresh)).headers['x-scim-token-id']).toBe(rotation.status!.newToken!.id);
    expect((await verify(url, old)).reason).toBe('revoked');
  });
});

describe('secrecy', () => {
  it('never printed a token: operator output, Events and objects are clean', async () => {
    const n = await assertNoTokenLeaks(ctx, [ctx.namespace], [operator.output()]);
    expect(n).toBeGreaterThanOrEqual(6);
  });
});
