// Property tests of the verifier's HTTP handler over real loopback sockets: whatever arrives in the
// Authorization header (or a TokenReview body), the answer is 200 only for exactly a current token,
// the server keeps answering, and nothing a client sent comes back in the response.
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE62_ALPHABET, generateToken } from '../rules/token.js';
import { createLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { scimDomainFixture } from '../../test/support/verifier-fixtures.js';
import { createVerifierHandler } from './handler.js';
import { startVerifierServer, type VerifierServer } from './server.js';
import { TokenIndex } from './token-index.js';

const newToken = () => generateToken((n) => randomBytes(n));
const current = [newToken(), newToken(), newToken()];
const revoked = [newToken(), newToken()];
const suspended = newToken();
const unknown = newToken();
const known = [...current, ...revoked, suspended, unknown];
const currentSet = new Set(current);
const TOKEN_SHAPE = /sct_[0-9A-Za-z]{46}/;

let server: VerifierServer;

beforeAll(async () => {
  const index = new TokenIndex();
  current.forEach((token, i) =>
    index.upsert(scimDomainFixture({ name: `d${i}`, token, revoked: i === 0 ? revoked : [] })),
  );
  index.upsert(scimDomainFixture({ name: 'paused', token: suspended, suspend: true }));
  const log = createLogger({ level: 'silent' });
  server = await startVerifierServer({
    host: '127.0.0.1',
    port: 0,
    tls: undefined,
    listener: createVerifierHandler({
      index,
      isReady: () => true,
      metrics: new Metrics({ defaultMetrics: false }),
      log,
    }),
    log,
  });
});

afterAll(async () => {
  await server?.close();
});

/** Sends bytes as they are (latin1: one char, one byte) and returns everything the server answered. */
function exchange(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.address.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
    socket.end(Buffer.from(request, 'latin1'));
  });
}

const verifyRequest = (authorization: string) =>
  `GET /v1/verify HTTP/1.1\r\nHost: verifier\r\nAuthorization: ${authorization}\r\nConnection: close\r\n\r\n`;

const statusOf = (raw: string) => Number(/^HTTP\/1\.1 (\d{3}) /.exec(raw)?.[1] ?? NaN);

// Header bytes: anything but CR and LF (which would end the header line and start another).
const headerChar = fc
  .integer({ min: 0, max: 255 })
  .filter((c) => c !== 13 && c !== 10)
  .map((c) => String.fromCharCode(c));
const headerString = (maxLength: number) => fc.string({ unit: headerChar, maxLength });
const tokenChar = fc.constantFrom(...BASE62_ALPHABET);

// A known token, changed slightly: the near misses a checksum and a hash lookup must tell apart.
const mutatedToken = fc.oneof(
  fc.tuple(fc.constantFrom(...known), fc.nat(), tokenChar).map(([t, i, c]) => {
    const at = 4 + (i % (t.length - 4));
    return t.slice(0, at) + c + t.slice(at + 1);
  }),
  fc
    .tuple(fc.constantFrom(...known), fc.nat())
    .map(([t, i]) => t.slice(0, i % t.length) + t.slice((i % t.length) + 1)),
  fc.tuple(fc.constantFrom(...known), tokenChar).map(([t, c]) => t + c),
  fc.tuple(fc.constantFrom(...known), fc.nat()).map(([t, i]) => {
    const at = i % t.length;
    const ch = t[at]!;
    const flipped = ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase();
    return t.slice(0, at) + flipped + t.slice(at + 1);
  }),
);

const credential = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...known) },
  { weight: 3, arbitrary: mutatedToken },
  { weight: 2, arbitrary: headerString(80) },
  { weight: 1, arbitrary: fc.constant(newToken()) },
);

// Weighted towards the shape of a real header, so that most runs reach the format check and the
// lookup rather than stopping at the scheme.
const scheme = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('Bearer', 'bearer', 'BEARER', 'bEaReR') },
  { weight: 1, arbitrary: fc.constantFrom('Basic', 'Token', 'Bearer:', '', 'Bearerx', 'sct_') },
);
const separator = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(' ', '  ') },
  { weight: 1, arbitrary: fc.constantFrom('\t', '', ' \t ', '=', '   ') },
);
const suffix = fc.oneof(
  { weight: 6, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.constantFrom(' ', '\t', ' x', ',') },
);
const authorization = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(scheme, separator, credential, suffix).map((p) => p.join('')) },
  { weight: 1, arbitrary: headerString(200) },
);

describe('GET /v1/verify with arbitrary Authorization headers', () => {
  it('answers 200 only when the header carries exactly a current token, and never echoes it', async () => {
    await fc.assert(
      fc.asyncProperty(authorization, async (value) => {
        const raw = await exchange(verifyRequest(value));
        const status = statusOf(raw);
        // 400 is Node's own answer to bytes HTTP forbids in a header (NUL, other controls).
        expect([200, 400, 401]).toContain(status);
        const accepted = /^bearer +(\S+)$/i.exec(value.replace(/^[ \t]+|[ \t]+$/g, ''));
        const carriesCurrent = accepted !== null && currentSet.has(accepted[1]!);
        expect(status === 200).toBe(carriesCurrent);
        // Nothing the client sent comes back: neither the value nor any token.
        const sent = value.trim();
        if (sent.length >= 8) expect(raw.includes(sent)).toBe(false);
        expect(TOKEN_SHAPE.test(raw)).toBe(false);
      }),
      { numRuns: 400 },
    );
  });

  it('accepts every current token in any scheme case with one or more spaces', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...current),
        fc.constantFrom('Bearer', 'bearer', 'BEARER'),
        fc.integer({ min: 1, max: 4 }),
        async (token, s, spaces) => {
          const raw = await exchange(verifyRequest(`${s}${' '.repeat(spaces)}${token}`));
          expect(statusOf(raw)).toBe(200);
          expect(raw.includes(token)).toBe(false);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('still answers after all of that', async () => {
    expect(statusOf(await exchange(verifyRequest(`Bearer ${current[0]!}`)))).toBe(200);
    expect(statusOf(await exchange('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))).toBe(
      200,
    );
  });
});

describe('POST /v1/tokenreviews with arbitrary bodies', () => {
  const reviewRequest = (body: string) => {
    const bytes = Buffer.from(body, 'utf8');
    return (
      `POST /v1/tokenreviews HTTP/1.1\r\nHost: verifier\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${bytes.length}\r\nConnection: close\r\n\r\n${bytes.toString('latin1')}`
    );
  };
  const tokenValue = fc.oneof(credential, fc.jsonValue());
  const body = fc.oneof(
    { weight: 3, arbitrary: tokenValue.map((token) => JSON.stringify({ spec: { token } })) },
    { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 100 }) },
  );

  it('authenticates only exactly a current token and never echoes the body', async () => {
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        const raw = await exchange(reviewRequest(text));
        const status = statusOf(raw);
        expect([200, 400]).toContain(status);
        let token: unknown;
        try {
          token = (JSON.parse(text) as { spec?: { token?: unknown } } | null)?.spec?.token;
        } catch {
          token = undefined;
        }
        const authenticated = raw.includes('"authenticated":true');
        expect(authenticated).toBe(typeof token === 'string' && currentSet.has(token));
        if (typeof token === 'string' && token.length >= 8) expect(raw.includes(token)).toBe(false);
        expect(TOKEN_SHAPE.test(raw)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
