import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, it, expect } from 'vitest';
import {
  BASE62_ALPHABET,
  TOKEN_ID_PATTERN,
  TOKEN_PATTERN,
  checkTokenFormat,
  crc32,
  describeToken,
  fingerprintFromSha256,
  generateToken,
  generateTokenId,
  randomBase62,
  tokenFingerprint,
  tokenSha256,
} from './token.js';
import type { RandomBytes } from './token.js';

// A RandomBytes that hands out a fixed byte sequence in order, so tokens become predictable. It
// throws when exhausted so a test notices if the generator asks for more than the test expects.
function byteStream(bytes: readonly number[]): RandomBytes {
  let next = 0;
  return (n) => {
    if (next + n > bytes.length) throw new Error(`stub exhausted: asked for ${n} at ${next}`);
    const out = Uint8Array.from(bytes.slice(next, next + n));
    next += n;
    return out;
  };
}

const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);

// Expected tokens below were derived outside this code base: the random part by mapping each byte b
// to BASE62_ALPHABET[b % 62] by hand, the checksum with Python's zlib.crc32 over that ASCII string,
// written in base62 by hand (e.g. 0x2cb8a58b = 750298507 = 0·62^5 + 48·62^4 + 22·62^3 + 10·62^2 +
// 56·62 + 51 → "0omAup").
const TOKEN_FROM_0_TO_39 = 'sct_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcd0omAup';
const TOKEN_ALL_Z = 'sct_zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz2x81PZ';
const TOKEN_ALL_0 = 'sct_00000000000000000000000000000000000000002kaqcA';

// Bit-at-a-time CRC-32 straight from the definition, to check the table-driven one independently.
function referenceCrc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

// Pearson's statistic for `counts` against a uniform distribution over counts.length symbols.
function chiSquareUniform(counts: readonly number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / counts.length;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

// Counts of each base62 symbol in s[from, to) of every string.
function base62Counts(strings: readonly string[], from: number, to: number): number[] {
  const counts = new Array<number>(62).fill(0);
  for (const s of strings) {
    for (let k = from; k < to; k++) {
      const i = BASE62_ALPHABET.indexOf(s.charAt(k));
      if (i < 0) throw new Error(`not base62 at ${k}`);
      counts[i] = (counts[i] ?? 0) + 1;
    }
  }
  return counts;
}

// 0.9999 quantile of χ² with 61 degrees of freedom (computed from the regularized incomplete gamma
// function): a correct generator fails this test once in 10,000 runs. Note: 116.1 is the 0.99997
// quantile, not the 0.9999 one.
const CHI2_DF61_Q9999 = 110.84;

describe('generateToken', () => {
  it('always produces tokens that match the documented pattern and pass the format check', () => {
    const tokens = Array.from({ length: 10_000 }, () => generateToken(randomBytes));

    expect(tokens.filter((t) => !TOKEN_PATTERN.test(t) || checkTokenFormat(t) !== 'ok')).toEqual([]);
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it.each([
    { name: 'bytes 0..39', bytes: range(0, 40), expected: TOKEN_FROM_0_TO_39 },
    { name: 'bytes 186..225 (0..39 plus 3·62)', bytes: range(186, 40), expected: TOKEN_FROM_0_TO_39 },
    {
      name: 'byte 247, the largest accepted, forty times',
      bytes: new Array<number>(40).fill(247),
      expected: TOKEN_ALL_Z,
    },
    { name: 'byte 0 forty times', bytes: new Array<number>(40).fill(0), expected: TOKEN_ALL_0 },
  ])('turns $name into the token derived by hand', ({ bytes, expected }) => {
    expect(generateToken(byteStream(bytes))).toBe(expected);
  });

  it.each([
    { name: 'a single 248', rejected: [248] },
    { name: 'a run of 255s', rejected: new Array<number>(25).fill(255) },
    { name: 'every byte from 248 to 255', rejected: range(248, 8) },
    { name: 'more rejected bytes than the token has characters', rejected: new Array<number>(100).fill(250) },
  ])('discards $name and builds the token from the accepted bytes only', ({ rejected }) => {
    const bytes = [...rejected.slice(0, 10), ...range(0, 20), ...rejected.slice(10), ...range(20, 20)];
    expect(generateToken(byteStream(bytes))).toBe(TOKEN_FROM_0_TO_39);
  });

  it('fails loudly instead of spinning forever when the random source yields only rejected bytes', () => {
    const broken: RandomBytes = (n) => new Uint8Array(n).fill(0xff);
    expect(() => generateToken(broken)).toThrow(/random source/);
  });

  it('fails loudly when the random source returns no bytes', () => {
    expect(() => generateToken(() => new Uint8Array(0))).toThrow(/random source/);
  });
});

describe('randomBase62', () => {
  it.each([0, 1, 40, 5_000])('returns exactly %i base62 characters', (length) => {
    const out = randomBase62(randomBytes, length);

    expect(out).toHaveLength(length);
    expect(out).toMatch(/^[0-9A-Za-z]*$/);
  });
});

describe('crc32', () => {
  it.each([
    { input: '123456789', expected: 0xcbf43926 },
    { input: '', expected: 0 },
    { input: 'a', expected: 0xe8b7be43 },
    { input: 'The quick brown fox jumps over the lazy dog', expected: 0x414fa339 },
    { input: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcd', expected: 0x2cb8a58b },
  ])('matches zlib for "$input"', ({ input, expected }) => {
    expect(crc32(Buffer.from(input, 'latin1'))).toBe(expected);
  });

  it('agrees with a bit-at-a-time reference on random inputs of every length up to 300 bytes', () => {
    for (let len = 0; len <= 300; len++) {
      const bytes = randomBytes(len);
      expect(crc32(bytes)).toBe(referenceCrc32(bytes));
    }
  });
});

describe('checkTokenFormat', () => {
  it.each([TOKEN_FROM_0_TO_39, TOKEN_ALL_Z, TOKEN_ALL_0])('accepts the known-good token %s', (token) => {
    expect(checkTokenFormat(token)).toBe('ok');
  });

  it('rejects every single-character substitution of a valid token, wherever it is', () => {
    const tokens = [TOKEN_FROM_0_TO_39, ...Array.from({ length: 4 }, () => generateToken(randomBytes))];
    const accepted: string[] = [];
    let tried = 0;
    for (const token of tokens) {
      for (let pos = 0; pos < token.length; pos++) {
        for (const ch of BASE62_ALPHABET + '_') {
          if (ch === token[pos]) continue;
          const mutated = token.slice(0, pos) + ch + token.slice(pos + 1);
          tried++;
          if (checkTokenFormat(mutated) !== 'malformed') accepted.push(mutated);
        }
      }
    }

    expect(tried).toBe(tokens.length * 50 * 62);
    expect(accepted).toEqual([]);
  });

  it('agrees with the defining regex and CRC-32 checksum on arbitrary token-shaped strings', () => {
    // The definition, spelled out the slow way: TOKEN_PATTERN, then the checksum of the random part.
    const checksumOf = (randomPart: string): string => {
      let value = crc32(Buffer.from(randomPart, 'latin1'));
      let checksum = '';
      for (let i = 0; i < 6; i++, value = Math.floor(value / 62))
        checksum = BASE62_ALPHABET[value % 62]! + checksum;
      return checksum;
    };
    const reference = (t: string): 'ok' | 'malformed' =>
      TOKEN_PATTERN.test(t) && checksumOf(t.slice(4, 44)) === t.slice(44) ? 'ok' : 'malformed';
    // Every character next to a base62 range, so an off-by-one in a range test shows.
    const chars = fc.constantFrom(...`${BASE62_ALPHABET}/:@[\`{_\u0130\u00e9`);
    const shaped = fc.oneof(
      fc.string({ unit: chars, minLength: 46, maxLength: 46 }).map((rest) => `sct_${rest}`),
      // A random part with a foreign character but the checksum it would have: only the charset test
      // can reject these.
      fc
        .string({ unit: chars, minLength: 40, maxLength: 40 })
        .map((randomPart) => `sct_${randomPart}${checksumOf(randomPart)}`),
      fc.tuple(fc.nat(49), chars).map(([pos, ch]) => {
        const t = generateToken(randomBytes);
        return t.slice(0, pos) + ch + t.slice(pos + 1);
      }),
    );
    fc.assert(
      fc.property(shaped, (t) => checkTokenFormat(t) === reference(t)),
      { numRuns: 20_000 },
    );
  });

  it('rejects every swap of two adjacent, different characters after the prefix', () => {
    const token = TOKEN_FROM_0_TO_39;
    for (let pos = 4; pos < token.length - 1; pos++) {
      const swapped = token.slice(0, pos) + token[pos + 1] + token[pos] + token.slice(pos + 2);
      expect(checkTokenFormat(swapped), `swap at ${pos}`).toBe('malformed');
    }
  });

  it.each([
    { name: 'the empty string', input: '' },
    { name: 'the bare prefix', input: 'sct_' },
    { name: 'an upper-case prefix', input: 'SCT_' + TOKEN_FROM_0_TO_39.slice(4) },
    { name: 'a token without its last character', input: TOKEN_FROM_0_TO_39.slice(0, -1) },
    { name: 'a token with a trailing newline', input: TOKEN_FROM_0_TO_39 + '\n' },
    { name: 'a token with a leading space', input: ' ' + TOKEN_FROM_0_TO_39 },
    { name: 'a Bearer header value', input: 'Bearer ' + TOKEN_FROM_0_TO_39 },
    {
      name: 'a non-ASCII character in place of one',
      input: TOKEN_FROM_0_TO_39.slice(0, 10) + 'é' + TOKEN_FROM_0_TO_39.slice(11),
    },
    {
      name: 'a valid random part with the checksum of another',
      input: TOKEN_FROM_0_TO_39.slice(0, 44) + TOKEN_ALL_Z.slice(44),
    },
    { name: 'a 10 MB string', input: 'sct_' + 'a'.repeat(10_000_000) },
    { name: 'null', input: null },
    { name: 'undefined', input: undefined },
    { name: 'a number', input: 42 },
    { name: 'an object', input: { token: TOKEN_FROM_0_TO_39 } },
    { name: 'an array holding a token', input: [TOKEN_FROM_0_TO_39] },
  ])('says malformed, without throwing, for $name', ({ input }) => {
    expect(checkTokenFormat(input)).toBe('malformed');
  });
});

describe('token hashes', () => {
  // Digest computed independently with Python's hashlib.sha256.
  const SHA256_OF_TOKEN_FROM_0_TO_39 = 'bbc7bbc6c92fd35815dde4375105c20327dfdff230245a83168651fce6c34c4e';

  it('gives the full lowercase hex SHA-256 of the whole token string', () => {
    expect(tokenSha256(TOKEN_FROM_0_TO_39)).toBe(SHA256_OF_TOKEN_FROM_0_TO_39);
  });

  it('fingerprints a token as sha256: plus the first 12 hex characters of its digest', () => {
    expect(tokenFingerprint(TOKEN_FROM_0_TO_39)).toBe('sha256:bbc7bbc6c92f');
    expect(fingerprintFromSha256(SHA256_OF_TOKEN_FROM_0_TO_39)).toBe('sha256:bbc7bbc6c92f');
  });

  it.each([
    { name: 'an empty string', digest: '' },
    { name: 'upper-case hex', digest: SHA256_OF_TOKEN_FROM_0_TO_39.toUpperCase() },
    { name: 'a truncated digest', digest: SHA256_OF_TOKEN_FROM_0_TO_39.slice(0, 63) },
    { name: 'a fingerprint', digest: 'sha256:bbc7bbc6c92f' },
    { name: 'a token', digest: TOKEN_FROM_0_TO_39 },
  ])('refuses to fingerprint $name, without echoing it', ({ digest }) => {
    expect(() => fingerprintFromSha256(digest)).toThrow(RangeError);
    try {
      fingerprintFromSha256(digest);
    } catch (err) {
      if (digest !== '') expect(String(err)).not.toContain(digest);
    }
  });
});

describe('describeToken', () => {
  it('returns the status shape with the token hashed and the token itself nowhere in it', () => {
    const token = generateToken(randomBytes);
    const description = describeToken(
      { id: 'tok-0123456789', sha256: tokenSha256(token) },
      '2025-01-02T03:04:05Z',
      7,
    );

    expect(description).toEqual({
      id: 'tok-0123456789',
      fingerprint: tokenFingerprint(token),
      sha256: tokenSha256(token),
      issuedAt: '2025-01-02T03:04:05Z',
      generation: 7,
    });
    expect(JSON.stringify(description)).not.toContain(token.slice(4, 44));
  });
});

describe('generateTokenId', () => {
  it('produces short, distinct ids of tok- and ten lowercase Crockford base32 characters', () => {
    const ids = Array.from({ length: 10_000 }, () => generateTokenId(randomBytes));

    expect(ids.filter((id) => !TOKEN_ID_PATTERN.test(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  // Crockford base32 lower-case: 0-9 then a b c d e f g h j k m n p q r s t v w x y z; byte & 31.
  it.each([
    { name: 'bytes 0..9', bytes: range(0, 10), expected: 'tok-0123456789' },
    { name: 'bytes 22..31', bytes: range(22, 10), expected: 'tok-pqrstvwxyz' },
    { name: 'bytes 246..255 (22..31 plus 7·32)', bytes: range(246, 10), expected: 'tok-pqrstvwxyz' },
    { name: 'bytes 10..19', bytes: range(10, 10), expected: 'tok-abcdefghjk' },
  ])('turns $name into the id derived by hand', ({ bytes, expected }) => {
    expect(generateTokenId(byteStream(bytes))).toBe(expected);
  });

  it('fails loudly when the random source returns too few bytes', () => {
    expect(() => generateTokenId(() => new Uint8Array(3))).toThrow(/random source/);
  });
});

describe('randomness of token characters', () => {
  const CHARS = 1_000_000;

  it('is uniform over the 62 symbols by a chi-square test over a million characters from real tokens', () => {
    const tokens = Array.from({ length: CHARS / 40 }, () => generateToken(randomBytes));
    const counts = base62Counts(tokens, 4, 44);
    const statistic = chiSquareUniform(counts);

    expect(counts.reduce((a, b) => a + b, 0)).toBe(CHARS);
    expect(statistic).toBeLessThan(CHI2_DF61_Q9999);
  });

  it('has the power to catch the bias of byte % 62 without rejection over the same count', () => {
    // 256 = 4·62 + 8, so `0`-`7` come up with probability 5/256 and the rest 4/256. The expected
    // statistic over N chars is about 61 + N·62·Σ(p_i − 1/62)² ≈ 61 + 0.0066·N ≈ 6,650 at N = 10⁶,
    // far above the threshold, so one million characters are plenty.
    const bytes = randomBytes(CHARS);
    const counts = new Array<number>(62).fill(0);
    for (const b of bytes) counts[b % 62] = (counts[b % 62] ?? 0) + 1;

    expect(chiSquareUniform(counts)).toBeGreaterThan(CHI2_DF61_Q9999);
  });
});
