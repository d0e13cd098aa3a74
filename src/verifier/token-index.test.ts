import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateToken, tokenSha256 } from '../rules/token.js';
import { scimDomainFixture, type DomainFixture } from '../../test/support/verifier-fixtures.js';
import { TokenIndex, fingerprintOf, grantFor, tokenNotAccepted } from './token-index.js';

const newToken = () => generateToken((n) => randomBytes(n));

describe('which tokens a ScimDomain makes valid', () => {
  const token = newToken();
  it.each<[string, Partial<DomainFixture>, string | undefined]>([
    ['a Ready, unsuspended domain with a token', {}, undefined],
    ['a suspended domain', { suspend: true }, 'provisioning is suspended'],
    ['a domain being deleted', { deleting: true }, 'the ScimDomain is being deleted'],
    ['a domain with Ready=False', { ready: 'False' }, 'the ScimDomain is not Ready'],
    ['a domain with Ready=Unknown', { ready: 'Unknown' }, 'the ScimDomain is not Ready'],
    ['a domain without a Ready condition', { ready: 'absent' }, 'the ScimDomain is not Ready'],
    ['a domain without a token', { token: undefined }, 'the ScimDomain has no token'],
    ['a domain edited once since Ready was recorded', { generation: 2 }, undefined],
    [
      'a domain edited twice since Ready was recorded (a suspension may have come and gone)',
      { generation: 3 },
      'the ScimDomain changed more than once since the operator recorded it',
    ],
  ])('%s: %s', (_, overrides, why) => {
    const d = scimDomainFixture({ name: 'a', token, ...overrides });
    expect(tokenNotAccepted(d)).toBe(why);
    expect(grantFor(d) === undefined).toBe(why !== undefined);
  });

  it('grants the domain, its ref, its IdP, its invitation setting and the token id', () => {
    const d = scimDomainFixture({
      name: 'acme',
      namespace: 'tenants',
      domain: 'acme.example',
      token,
      tokenId: 'tok-0123456789',
      identityProvider: 'Okta',
      sendEmailInvitations: false,
    });
    expect(grantFor(d)).toEqual({
      domain: 'acme.example',
      ref: 'tenants/acme',
      sendEmailInvitations: false,
      identityProvider: 'Okta',
      tokenId: 'tok-0123456789',
    });
  });

  it('applies the CRD defaults: invitations on, IdP Other', () => {
    const grant = grantFor(scimDomainFixture({ name: 'a', token }));
    expect(grant).toMatchObject({ sendEmailInvitations: true, identityProvider: 'Other' });
  });

  it('does not serve a status whose values could not be response headers', () => {
    const d = scimDomainFixture({ name: 'a', token, tokenId: 'tok-bad\r\nX-Evil: 1' });
    expect(grantFor(d)).toBeUndefined();
  });
});

describe('TokenIndex', () => {
  const setup = () => {
    let now = 1_000_000;
    const index = new TokenIndex({ now: () => now, tombstoneTtlMs: 60_000, maxTombstones: 3 });
    return { index, advance: (ms: number) => (now += ms) };
  };

  it('answers unknown for a token nobody issued', () => {
    expect(setup().index.lookup(tokenSha256(newToken()))).toBe('unknown');
  });

  it('answers with the grant for the current token of a valid domain', () => {
    const { index } = setup();
    const t = newToken();
    index.upsert(scimDomainFixture({ name: 'a', token: t }));
    expect(index.lookup(tokenSha256(t))).toMatchObject({ ref: 'ns/a', domain: 'a.example.com' });
    expect(index.size).toBe(1);
  });

  it('replaces a domain’s token on update: the new one is valid, the old one revoked', () => {
    const { index } = setup();
    const [old, next] = [newToken(), newToken()];
    index.upsert(scimDomainFixture({ name: 'a', token: old }));
    index.upsert(scimDomainFixture({ name: 'a', token: next, revoked: [old] }));
    expect(index.lookup(tokenSha256(next))).toMatchObject({ ref: 'ns/a' });
    expect(index.lookup(tokenSha256(old))).toBe('revoked');
    expect(index.size).toBe(1);
  });

  describe('an overlap (SPEC §2.2)', () => {
    const withPrevious = (current: string, previous: string, expiresAtMs: number, extra = {}) => {
      const d = scimDomainFixture({ name: 'a', token: current, ...extra });
      d.status!.previousToken = {
        id: 'tok-previous00',
        fingerprint: fingerprintOf(tokenSha256(previous)),
        sha256: tokenSha256(previous),
        expiresAt: new Date(expiresAtMs).toISOString(),
      };
      return d;
    };

    it('grants the previous token until expiresAt, saying when, then answers revoked', () => {
      const { index, advance } = setup();
      const [old, next] = [newToken(), newToken()];
      index.upsert(withPrevious(next, old, 1_000_000 + 60_000));

      expect(index.lookup(tokenSha256(old))).toMatchObject({
        ref: 'ns/a',
        tokenId: 'tok-previous00',
        expiresAt: new Date(1_060_000).toISOString(),
      });
      expect(index.lookup(tokenSha256(next))).toMatchObject({ ref: 'ns/a' });
      advance(60_000);
      expect(index.lookup(tokenSha256(old))).toBe('revoked');
      expect(index.lookup(tokenSha256(next))).toMatchObject({ ref: 'ns/a' });
    });

    it.each([
      ['suspended', { suspend: true }],
      ['not Ready', { ready: 'False' as const }],
    ])('grants no previous token while the domain is %s', (_, extra) => {
      const { index } = setup();
      const [old, next] = [newToken(), newToken()];
      index.upsert(withPrevious(next, old, 2_000_000, extra));
      expect(index.lookup(tokenSha256(old))).toBe('unknown');
    });

    it('drops the previous token when the overlap ends in status, and remembers it when the domain goes', () => {
      const { index } = setup();
      const [old, next] = [newToken(), newToken()];
      index.upsert(withPrevious(next, old, 2_000_000));
      index.upsert(scimDomainFixture({ name: 'a', token: next, revoked: [old] }));
      expect(index.lookup(tokenSha256(old))).toBe('revoked');

      const other = setup().index;
      const d = withPrevious(next, old, 2_000_000);
      other.upsert(d);
      other.remove(d);
      expect(other.lookup(tokenSha256(old))).toBe('revoked');
    });
  });

  it('forgets a token that the domain no longer holds and never listed as revoked', () => {
    const { index } = setup();
    const [old, next] = [newToken(), newToken()];
    index.upsert(scimDomainFixture({ name: 'a', token: old }));
    index.upsert(scimDomainFixture({ name: 'a', token: next }));
    expect(index.lookup(tokenSha256(old))).toBe('unknown');
  });

  it('answers revoked for the current token of a suspended, deleting or not-Ready domain', () => {
    const { index } = setup();
    const cases: Partial<DomainFixture>[] = [{ suspend: true }, { deleting: true }, { ready: 'False' }];
    for (const [i, overrides] of cases.entries()) {
      const t = newToken();
      index.upsert(scimDomainFixture({ name: `d${i}`, token: t }));
      index.upsert(scimDomainFixture({ name: `d${i}`, token: t, ...overrides }));
      expect(index.lookup(tokenSha256(t)), JSON.stringify(overrides)).toBe('revoked');
    }
    expect(index.size).toBe(0);
  });

  it('takes a suspension back: the same token is valid again when the domain is Ready again', () => {
    const { index } = setup();
    const t = newToken();
    index.upsert(scimDomainFixture({ name: 'a', token: t, suspend: true }));
    index.upsert(scimDomainFixture({ name: 'a', token: t }));
    expect(index.lookup(tokenSha256(t))).toMatchObject({ ref: 'ns/a' });
  });

  it('answers revoked for any fingerprint in any domain’s revokedTokens until it leaves the list', () => {
    const { index } = setup();
    const [r1, r2, cur] = [newToken(), newToken(), newToken()];
    index.upsert(scimDomainFixture({ name: 'a', token: cur, revoked: [r1] }));
    index.upsert(scimDomainFixture({ name: 'b', revoked: [r1, r2], ready: 'False' }));
    expect(index.lookup(tokenSha256(r1))).toBe('revoked');
    expect(index.lookup(tokenSha256(r2))).toBe('revoked');
    // b's list no longer holds r1, but a's still does.
    index.upsert(scimDomainFixture({ name: 'b', revoked: [r2], ready: 'False' }));
    expect(index.lookup(tokenSha256(r1))).toBe('revoked');
    index.upsert(scimDomainFixture({ name: 'a', token: cur }));
    expect(index.lookup(tokenSha256(r1))).toBe('unknown');
    expect(index.revokedSize).toBe(1);
  });

  it('keeps domains apart: the same name in two namespaces is two domains', () => {
    const { index } = setup();
    const [t1, t2] = [newToken(), newToken()];
    index.upsert(scimDomainFixture({ name: 'a', namespace: 'one', token: t1 }));
    index.upsert(scimDomainFixture({ name: 'a', namespace: 'two', token: t2 }));
    index.upsert(scimDomainFixture({ name: 'a', namespace: 'one', token: t1, suspend: true }));
    expect(index.lookup(tokenSha256(t1))).toBe('revoked');
    expect(index.lookup(tokenSha256(t2))).toMatchObject({ ref: 'two/a' });
  });

  it('answers revoked for a deleted domain’s tokens for the tombstone TTL, then unknown', () => {
    const { index, advance } = setup();
    const [t, old] = [newToken(), newToken()];
    const d = scimDomainFixture({ name: 'a', token: t, revoked: [old] });
    index.upsert(d);
    index.remove(d);
    expect(index.size).toBe(0);
    expect(index.domains).toBe(0);
    expect(index.lookup(tokenSha256(t))).toBe('revoked');
    expect(index.lookup(tokenSha256(old))).toBe('revoked');
    advance(60_001);
    expect(index.lookup(tokenSha256(t))).toBe('unknown');
  });

  it('remembers the token of a deleted domain it never saw Ready (a re-list after an outage)', () => {
    const { index } = setup();
    const t = newToken();
    index.remove(scimDomainFixture({ name: 'a', token: t }));
    expect(index.lookup(tokenSha256(t))).toBe('revoked');
  });

  it('keeps at most maxTombstones, dropping the oldest first', () => {
    const { index } = setup();
    const tokens = [newToken(), newToken(), newToken(), newToken()];
    for (const [i, t] of tokens.entries()) index.remove(scimDomainFixture({ name: `d${i}`, token: t }));
    expect(index.lookup(tokenSha256(tokens[0]!))).toBe('unknown');
    for (const t of tokens.slice(1)) expect(index.lookup(tokenSha256(t))).toBe('revoked');
  });

  it('does not let one domain’s update remove another domain holding the same hash', () => {
    const { index } = setup();
    const t = newToken();
    index.upsert(scimDomainFixture({ name: 'a', token: t }));
    index.upsert(scimDomainFixture({ name: 'b', token: t }));
    index.upsert(scimDomainFixture({ name: 'a', token: newToken() }));
    expect(index.lookup(tokenSha256(t))).toMatchObject({ ref: 'ns/b' });
  });

  it('handles 10,000 domains and updates one without touching the others', () => {
    const { index } = setup();
    const tokens = Array.from({ length: 10_000 }, () => newToken());
    tokens.forEach((t, i) => index.upsert(scimDomainFixture({ name: `d${i}`, token: t })));
    expect(index.size).toBe(10_000);
    index.upsert(scimDomainFixture({ name: 'd5', token: tokens[5]!, suspend: true }));
    expect(index.size).toBe(9_999);
    expect(index.lookup(tokenSha256(tokens[4]!))).toMatchObject({ ref: 'ns/d4' });
    expect(index.lookup(tokenSha256(tokens[5]!))).toBe('revoked');
  });
});
