import { describe, expect, it } from 'vitest';
import { createTokenSealer, type TokenBinding } from './token-seal.js';

const key = Buffer.alloc(32, 3);
const binding: TokenBinding = {
  domainUid: 'uid-1',
  generation: 4,
  sha256: 'a'.repeat(64),
  id: 'tok-0123456789',
  cause: 'Rotated',
  rotationKey: 'uid-r',
  rotationName: 'r',
};

describe('createTokenSealer', () => {
  it('verifies its own seal', () => {
    const s = createTokenSealer(key);
    expect(s.verify(binding, s.seal(binding))).toBe(true);
  });

  it.each<{ case: string; change: Partial<TokenBinding> }>([
    { case: 'domain', change: { domainUid: 'uid-2' } },
    { case: 'generation', change: { generation: 5 } },
    { case: 'hash', change: { sha256: 'b'.repeat(64) } },
    { case: 'token id', change: { id: 'tok-aaaaaaaaaa' } },
    { case: 'cause', change: { cause: 'SecretLost' } },
    { case: 'rotation key', change: { rotationKey: 'uid-r@2026-01-01T00:00:00.000Z' } },
    { case: 'rotation name', change: { rotationName: 'other' } },
    { case: 'rotation (removed)', change: { rotationKey: undefined, rotationName: undefined } },
  ])('refuses the seal of a binding with another $case', ({ change }) => {
    const s = createTokenSealer(key);
    expect(s.verify({ ...binding, ...change }, s.seal(binding))).toBe(false);
  });

  it('does not confuse fields whose concatenations are equal', () => {
    const s = createTokenSealer(key);
    const a = { ...binding, rotationKey: 'ab', rotationName: 'c' };
    const b = { ...binding, rotationKey: 'a', rotationName: 'bc' };
    expect(s.verify(b, s.seal(a))).toBe(false);
  });

  it.each([undefined, '', 'x', 'A'.repeat(43)])('refuses a missing or forged seal %j', (seal) => {
    expect(createTokenSealer(key).verify(binding, seal)).toBe(false);
  });

  it('refuses a seal made under another key', () => {
    const other = createTokenSealer(Buffer.alloc(32, 4));
    expect(createTokenSealer(key).verify(binding, other.seal(binding))).toBe(false);
  });

  it('refuses a key shorter than 32 bytes', () => {
    expect(() => createTokenSealer(Buffer.alloc(31))).toThrow(/at least 32 bytes/);
  });
});
