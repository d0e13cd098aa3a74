import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ScimDomain } from '../api/types.js';
import { generateToken } from '../rules/token.js';
import { domainSamples } from '../observability/metrics.js';
import { scimDomainFixture, sha256, type DomainFixture } from '../../test/support/index.js';
import { verifierView } from './cached-domain.js';
import { TokenIndex } from './token-index.js';

const token = () => generateToken((n) => randomBytes(n));

// Every state the index tells apart, and the per-domain metrics' inputs.
const fixtures: DomainFixture[] = [
  { name: 'ready', token: token(), revoked: [token(), token()] },
  { name: 'not-ready', token: token(), ready: 'False' },
  { name: 'no-ready-condition', token: token(), ready: 'absent' },
  { name: 'suspended', token: token(), suspend: true },
  { name: 'deleting', token: token(), deleting: true },
  { name: 'gap', token: token(), generation: 3 },
  { name: 'one-ahead', token: token(), generation: 2 },
  { name: 'no-token' },
  { name: 'other-idp', token: token(), identityProvider: 'Okta', sendEmailInvitations: false },
];

function withOverlap(d: ScimDomain, previous: string, expiresAt: string): ScimDomain {
  d.status = {
    ...d.status!,
    previousToken: {
      id: 'tok-previous',
      fingerprint: `sha256:${sha256(previous).slice(0, 12)}`,
      sha256: sha256(previous),
      expiresAt,
    },
  };
  d.spec.maxTokenAge = '720h';
  return d;
}

function domains(): { list: ScimDomain[]; tokens: string[] } {
  const tokens: string[] = [token(), token()];
  const list = fixtures.map((f) => {
    tokens.push(...(f.token ? [f.token] : []), ...(f.revoked ?? []));
    return scimDomainFixture(f);
  });
  const [live, over] = [tokens[0]!, tokens[1]!];
  list.push(
    withOverlap(scimDomainFixture({ name: 'overlap', token: token() }), live, '2999-01-01T00:00:00Z'),
  );
  list.push(
    withOverlap(scimDomainFixture({ name: 'overlap-over', token: token() }), over, '2000-01-01T00:00:00Z'),
  );
  return { list, tokens: [...tokens, token()] };
}

describe('verifierView', () => {
  it('answers every token exactly as the whole object does', () => {
    const { list, tokens } = domains();
    const whole = new TokenIndex({ now: () => Date.parse('2026-06-01T00:00:00Z') });
    const viewed = new TokenIndex({ now: () => Date.parse('2026-06-01T00:00:00Z') });
    for (const d of list) {
      whole.upsert(d);
      viewed.upsert(verifierView(structuredClone(d)));
    }
    for (const t of tokens) expect(viewed.lookup(sha256(t))).toEqual(whole.lookup(sha256(t)));
    expect(viewed.size).toBe(whole.size);
    expect(viewed.revokedSize).toBe(whole.revokedSize);
  });

  it('gives the per-domain metrics the same samples', () => {
    const { list } = domains();
    expect([...domainSamples(list.map((d) => verifierView(structuredClone(d))))]).toEqual([
      ...domainSamples(list),
    ]);
  });

  it('keeps no condition message, rotation history or delivery status', () => {
    const d = scimDomainFixture({ name: 'ready', token: token(), revoked: [token()] });
    d.status = {
      ...d.status!,
      lastRotation: { name: 'r', completedAt: '2026-01-01T00:00:00Z' },
      appliedRotations: ['uid-1'],
    } as unknown as ScimDomain['status'];
    const json = JSON.stringify(verifierView(structuredClone(d)));
    expect(json).not.toMatch(/message|lastTransitionTime|lastRotation|appliedRotations|uid/);
  });
});
