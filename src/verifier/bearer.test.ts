import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateToken } from '../rules/token.js';
import { credentialFromRawHeaders, credentialOf, parseAuthorization } from './bearer.js';

const token = generateToken((n) => randomBytes(n));
// Same random part, checksum off by one character.
const badChecksum = token.slice(0, -1) + (token.endsWith('0') ? '1' : '0');

describe('parseAuthorization', () => {
  it.each([
    ['no Authorization header', undefined, 'missing'],
    ['an empty header', '', 'missing'],
    ['another scheme (RFC 6750 §3.1: no credentials of ours)', `Basic ${token}`, 'missing'],
    ['a scheme that merely starts with Bearer', `Bearerx ${token}`, 'missing'],
    ['a bare token without the scheme', token, 'missing'],
    ['the scheme alone', 'Bearer', 'malformed'],
    ['the scheme and spaces only', 'Bearer   ', 'malformed'],
    ['a short credential', 'Bearer abc', 'malformed'],
    ['a token with a wrong checksum', `Bearer ${badChecksum}`, 'malformed'],
    ['a token with a character appended', `Bearer ${token}x`, 'malformed'],
    ['a token with a character cut off', `Bearer ${token.slice(0, -1)}`, 'malformed'],
    ['two tokens', `Bearer ${token} ${token}`, 'malformed'],
    ['a token with a wrong prefix', `Bearer sct-${token.slice(4)}`, 'malformed'],
    ['a token separated by a tab', `Bearer\t${token}`, 'missing'],
    ['a valid token', `Bearer ${token}`, 'token'],
    ['a valid token, scheme in lowercase', `bearer ${token}`, 'token'],
    ['a valid token, scheme in mixed case', `bEaReR ${token}`, 'token'],
    ['a valid token after several spaces (1*SP)', `Bearer   ${token}`, 'token'],
  ])('classifies %s as %s', (_, header, kind) => {
    expect(parseAuthorization(header).kind).toBe(kind);
  });

  it('returns exactly the token for a valid credential', () => {
    expect(parseAuthorization(`Bearer ${token}`)).toEqual({ kind: 'token', token });
  });

  it('treats more than one Authorization header as malformed, even when each is valid', () => {
    expect(parseAuthorization(`Bearer ${token}`, 2).kind).toBe('malformed');
  });

  it('rejects a 16 KiB header without scanning it as a token', () => {
    expect(parseAuthorization(`Bearer ${'a'.repeat(16 * 1024)}`).kind).toBe('malformed');
  });
});

describe('credentialOf (a TokenReview spec.token)', () => {
  it.each([
    ['undefined', undefined, 'missing'],
    ['null', null, 'missing'],
    ['an empty string', '', 'missing'],
    ['a number', 42, 'malformed'],
    ['an object', { token }, 'malformed'],
    ['a token with a leading space', ` ${token}`, 'malformed'],
    ['a token with a Bearer prefix', `Bearer ${token}`, 'malformed'],
    ['a valid token', token, 'token'],
  ])('classifies %s as %s', (_, value, kind) => {
    expect(credentialOf(value).kind).toBe(kind);
  });
});

describe('credentialFromRawHeaders', () => {
  it('finds the Authorization header in any case among the raw headers', () => {
    expect(credentialFromRawHeaders(['Host', 'x', 'authorization', `Bearer ${token}`])).toEqual({
      kind: 'token',
      token,
    });
    expect(credentialFromRawHeaders(['Host', 'x', 'AUTHORIZATION', `Bearer ${token}`]).kind).toBe('token');
  });

  it('is missing without one, and ignores look-alike names', () => {
    expect(credentialFromRawHeaders(['Host', 'x']).kind).toBe('missing');
    expect(credentialFromRawHeaders(['Authorizations', `Bearer ${token}`]).kind).toBe('missing');
  });

  it('is malformed with two, whatever they say', () => {
    const raw = ['Authorization', `Bearer ${token}`, 'authorization', `Bearer ${token}`];
    expect(credentialFromRawHeaders(raw).kind).toBe('malformed');
  });
});
