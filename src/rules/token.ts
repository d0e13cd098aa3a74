// The SCIM bearer token format (SPEC §2.1): generating tokens and token ids, the cheap format/checksum
// pre-check, and the derived values that may be shown anywhere (SHA-256, fingerprint, status shape).
//
// Pure: randomness is injected as `RandomBytes` (callers pass `crypto.randomBytes`), time arrives as a
// string. Hashing is deterministic, so using node:crypto's SHA-256 here is fine. Nothing in this
// module puts a token into an error message; the only errors thrown describe a broken random source
// or a malformed digest.

import { createHash } from 'node:crypto';
import type { TokenStatus } from '../api/types.js';

/** Returns `n` bytes from a CSPRNG. `crypto.randomBytes` in production; stubbed in tests. */
export type RandomBytes = (n: number) => Uint8Array;

export type TokenFormatCheck = 'ok' | 'malformed';

export const BASE62_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const TOKEN_PREFIX = 'sct_';
export const TOKEN_RANDOM_LENGTH = 40;
export const TOKEN_CHECKSUM_LENGTH = 6;
export const TOKEN_LENGTH = TOKEN_PREFIX.length + TOKEN_RANDOM_LENGTH + TOKEN_CHECKSUM_LENGTH;
export const TOKEN_PATTERN = /^sct_[0-9A-Za-z]{46}$/;
export const TOKEN_ID_PATTERN = /^tok-[0-9a-hjkmnp-tv-z]{10}$/;

// 248 = 4 * 62: bytes at or above it would give the first 8 symbols a 5/256 chance instead of 4/256.
const BASE62_REJECT_FROM = 248;

// A healthy CSPRNG rejects a byte with probability 8/256, so needing this many rounds for one token
// means the source is broken (e.g. a stub or a device returning constant 0xff); failing loudly beats
// spinning forever.
const MAX_SAMPLING_ROUNDS = 1000;

// Crockford's base32 in lowercase: 32 symbols divide 256 exactly, so `byte & 31` is unbiased without
// rejection, and ids avoid i/l/o/u, which are easy to misread when copied from logs.
const TOKEN_ID_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const TOKEN_ID_PREFIX = 'tok-';
const TOKEN_ID_LENGTH = 10;

const SHA256_HEX = /^[0-9a-f]{64}$/;
const FINGERPRINT_HEX_CHARS = 12;

const CRC32_TABLE = buildCrc32Table();

function buildCrc32Table(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) {
      c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    table[n] = c >>> 0;
  }
  return table;
}

/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) exactly as zlib computes it. Implemented here
 * because `zlib.crc32` only exists from Node 22.2 and we support Node 20.
 */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = crc32Step(crc, byte);
  return (crc ^ 0xffffffff) >>> 0;
}

/** CRC-32 of the characters `from` to `to` (exclusive) of an ASCII string: one byte per character. */
function crc32Ascii(s: string, from = 0, to = s.length): number {
  let crc = 0xffffffff;
  for (let i = from; i < to; i++) crc = crc32Step(crc, s.charCodeAt(i));
  return (crc ^ 0xffffffff) >>> 0;
}

function crc32Step(crc: number, byte: number): number {
  // The index is always 0..255, so the table lookup cannot miss.
  return CRC32_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
}

function encodeChecksum(randomPart: string): string {
  // The random part is base62, hence ASCII: a byte per character.
  let value = crc32Ascii(randomPart);
  let out = '';
  do {
    out = BASE62_ALPHABET[value % 62]! + out;
    value = Math.floor(value / 62);
  } while (value > 0);
  // 62^6 > 2^32, so six characters always suffice.
  return out.padStart(TOKEN_CHECKSUM_LENGTH, '0');
}

/**
 * `length` base62 characters, each uniform over the alphabet: bytes >= 248 are discarded rather than
 * folded in with `% 62`, which would favour `0`-`7`.
 */
export function randomBase62(randomBytes: RandomBytes, length: number): string {
  let out = '';
  for (let round = 0; out.length < length; round++) {
    if (round >= MAX_SAMPLING_ROUNDS) {
      throw new Error(`random source rejected for ${MAX_SAMPLING_ROUNDS} rounds; is it broken?`);
    }
    const bytes = randomBytes(length - out.length);
    if (bytes.length === 0) {
      throw new Error('random source returned no bytes');
    }
    for (const byte of bytes) {
      if (byte < BASE62_REJECT_FROM && out.length < length) {
        out += BASE62_ALPHABET[byte % 62]!;
      }
    }
  }
  return out;
}

/** A new token: `sct_` + 40 random base62 chars + 6 base62 chars of their CRC-32 (SPEC §2.1). */
export function generateToken(randomBytes: RandomBytes): string {
  const randomPart = randomBase62(randomBytes, TOKEN_RANDOM_LENGTH);
  return TOKEN_PREFIX + randomPart + encodeChecksum(randomPart);
}

/**
 * Cheap structural check before any lookup: prefix, length, charset and checksum. Accepts anything
 * (request bodies are untrusted JSON) and never throws; the length test comes first so a huge input
 * costs nothing.
 */
export function checkTokenFormat(s: unknown): TokenFormatCheck {
  if (typeof s !== 'string' || s.length !== TOKEN_LENGTH || !s.startsWith(TOKEN_PREFIX)) {
    return 'malformed';
  }
  // One pass over the characters in place, no intermediate strings or buffers, and no branch per
  // character: the verifier runs this on every request, and random base62 characters make the
  // range tests of a branching digit check mispredict about once a character (a third of the cost of
  // a request's token check). Same answer as `TOKEN_PATTERN` plus comparing `encodeChecksum` of the
  // random part; a property test holds it to that definition.
  const checksumAt = TOKEN_PREFIX.length + TOKEN_RANDOM_LENGTH;
  let crc = 0xffffffff;
  // Bit 31 set once any character is outside the alphabet (a digit value of -1).
  let invalid = 0;
  for (let i = TOKEN_PREFIX.length; i < checksumAt; i++) {
    const c = s.charCodeAt(i);
    invalid |= base62Digit(c);
    crc = crc32Step(crc, c);
  }
  // Six base62 digits name one number below 62^6 (> 2^32), so comparing numbers compares strings.
  let checksum = 0;
  for (let i = checksumAt; i < TOKEN_LENGTH; i++) {
    const digit = base62Digit(s.charCodeAt(i));
    invalid |= digit;
    checksum = checksum * 62 + digit;
  }
  return invalid >= 0 && checksum === (crc ^ 0xffffffff) >>> 0 ? 'ok' : 'malformed';
}

// The value of each BASE62_ALPHABET character code below 128, -1 for every other code.
const BASE62_DIGITS = (() => {
  const digits = new Int8Array(128).fill(-1);
  for (let i = 0; i < BASE62_ALPHABET.length; i++) digits[BASE62_ALPHABET.charCodeAt(i)] = i;
  return digits;
})();

/** The value of a BASE62_ALPHABET character code, or -1. */
function base62Digit(c: number): number {
  return c < 128 ? BASE62_DIGITS[c]! : -1;
}

/** Full lowercase hex SHA-256 of the token string: what status records and the verifier compares. */
export function tokenSha256(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * The fingerprint rule (SPEC §2.1), owned here and nowhere else: `sha256:` + the first 12 hex chars
 * of the digest. Throws on anything but 64 lowercase hex chars,
 * because a fingerprint of a malformed digest would silently match nothing.
 */
export function fingerprintFromSha256(sha256Hex: string): string {
  if (!SHA256_HEX.test(sha256Hex)) {
    throw new RangeError('expected a SHA-256 digest as 64 lowercase hex characters');
  }
  return `sha256:${sha256Hex.slice(0, FINGERPRINT_HEX_CHARS)}`;
}

export function tokenFingerprint(token: string): string {
  return fingerprintFromSha256(tokenSha256(token));
}

/** A short random id (`tok-` + 10 Crockford base32 chars, 50 bits) naming a token in logs and events. */
export function generateTokenId(randomBytes: RandomBytes): string {
  const bytes = randomBytes(TOKEN_ID_LENGTH);
  if (bytes.length < TOKEN_ID_LENGTH) {
    throw new Error('random source returned too few bytes');
  }
  let out = TOKEN_ID_PREFIX;
  for (let i = 0; i < TOKEN_ID_LENGTH; i++) {
    out += TOKEN_ID_ALPHABET[bytes[i]! & 31]!;
  }
  return out;
}

/**
 * What `status.token` of a ScimDomain records about a token, from its id and the SHA-256 its issuer
 * already computed: safe to log and store, the token is not in it.
 */
export function describeToken(
  t: { id: string; sha256: string },
  issuedAt: string,
  generation: number,
): TokenStatus {
  return { id: t.id, fingerprint: fingerprintFromSha256(t.sha256), sha256: t.sha256, issuedAt, generation };
}
