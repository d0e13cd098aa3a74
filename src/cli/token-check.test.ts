import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RevokedToken, ScimDomain } from '../api/types.js';
import { generateToken } from '../rules/token.js';
import { readyCondition, revokedTokenOf, scimDomain, tokenStatusOf } from '../../test/support/index.js';
import { checkToken, describeCheck } from './token-check.js';

const newToken = () => generateToken((n) => randomBytes(n));

function domain(
  name: string,
  token: string | undefined,
  over: { suspend?: boolean; ready?: boolean; revoked?: RevokedToken[] } = {},
): ScimDomain {
  return scimDomain({
    metadata: { name },
    spec: { identityProvider: 'Okta', ...(over.suspend ? { suspend: true } : {}) },
    status: {
      conditions: [readyCondition(over.ready === false ? { status: 'False', reason: 'SecretConflict' } : {})],
      ...(token ? { token: tokenStatusOf(token) } : {}),
      revokedTokens: over.revoked ?? [],
    },
  });
}

describe('checkToken (verify without a verifier)', () => {
  it('finds the domain whose current token it is', () => {
    const t = newToken();
    const r = checkToken(t, [domain('a', newToken()), domain('b', t)]);
    expect(r).toMatchObject({
      result: 'valid',
      domain: { ref: 'ns/b', domain: 'b.example', identityProvider: 'Okta' },
    });
    expect(describeCheck(r, '')).toContain('valid: token sha256:');
  });

  it('calls a token malformed without looking at any domain', () => {
    const t = newToken();
    expect(checkToken(`${t.slice(0, -1)}${t.endsWith('0') ? '1' : '0'}`, [domain('a', t)]).result).toBe(
      'malformed',
    );
    expect(checkToken('hello', []).result).toBe('malformed');
  });

  it('calls a token revoked when its fingerprint is in revokedTokens, with when and why', () => {
    const old = newToken();
    const revoked = revokedTokenOf(old, { id: 'tok-old0000000', revokedAt: '2026-01-02T00:00:00Z' });
    const r = checkToken(old, [domain('a', newToken(), { revoked: [revoked] })]);
    expect(r).toMatchObject({ result: 'revoked', domain: { ref: 'ns/a' }, revoked });
    expect(describeCheck(r, '')).toContain('invalid (revoked)');
    expect(describeCheck(r, '')).toContain('replaced by a rotation');
  });

  it('calls the current token of a suspended or not-Ready domain revoked, saying why', () => {
    const t = newToken();
    expect(checkToken(t, [domain('a', t, { suspend: true })])).toMatchObject({
      result: 'revoked',
      why: 'provisioning is suspended',
    });
    expect(checkToken(t, [domain('a', t, { ready: false })])).toMatchObject({
      result: 'revoked',
      why: 'the ScimDomain is not Ready',
    });
  });

  it('prefers a domain that accepts the token over one that lists it as revoked', () => {
    const t = newToken();
    const revoked = revokedTokenOf(t, { id: 'tok-x', revokedAt: '2026-01-02T00:00:00Z', reason: 'Deleted' });
    expect(checkToken(t, [domain('a', newToken(), { revoked: [revoked] }), domain('b', t)]).result).toBe(
      'valid',
    );
  });

  it('calls a well-formed token nobody issued unknown, naming the scope searched', () => {
    const r = checkToken(newToken(), [domain('a', newToken())]);
    expect(r.result).toBe('unknown');
    expect(describeCheck(r, 'in namespace ns (1 searched)')).toMatch(
      /^invalid \(unknown\): no ScimDomain in namespace ns \(1 searched\) issued token sha256:[0-9a-f]{12}$/,
    );
  });

  it('never puts the token into the description', () => {
    const t = newToken();
    for (const r of [
      checkToken(t, [domain('a', t)]),
      checkToken(t, []),
      checkToken(t, [domain('a', t, { suspend: true })]),
    ]) {
      expect(describeCheck(r, 'x')).not.toContain(t);
    }
  });
});
