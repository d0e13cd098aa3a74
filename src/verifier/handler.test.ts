import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToken, tokenSha256 } from '../rules/token.js';
import { createLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { scimDomainFixture } from '../../test/support/verifier-fixtures.js';
import { MAX_REVIEW_BODY_BYTES, createVerifierHandler, sha256Hex } from './handler.js';
import { startVerifierServer, type VerifierServer } from './server.js';
import { TokenIndex } from './token-index.js';

const newToken = () => generateToken((n) => randomBytes(n));

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(
  server: VerifierServer,
  path: string,
  {
    method = 'GET',
    headers = {},
    body,
  }: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.address.port, path, method, headers, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });

/** Sends raw bytes on a new connection and returns everything the server wrote until it closed. */
function exchange(request: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const socket = connect(server.address.port, '127.0.0.1');
    let text = '';
    socket.setEncoding('utf8').on('data', (d: string) => (text += d));
    socket.on('end', () => resolve(text)).on('error', reject);
    socket.end(request);
  });
}

let server: VerifierServer;
let ready = true;
const index = new TokenIndex();
const metrics = new Metrics({ defaultMetrics: false });
const logLines: string[] = [];
const log = createLogger({ level: 'trace', destination: { write: (s: string) => void logLines.push(s) } });
const valid = newToken();
const other = newToken();
const revoked = newToken();
const suspended = newToken();

beforeAll(async () => {
  index.upsert(
    scimDomainFixture({
      name: 'acme',
      namespace: 'tenants',
      domain: 'acme.example',
      token: valid,
      tokenId: 'tok-0123456789',
      identityProvider: 'EntraID',
      sendEmailInvitations: false,
      revoked: [revoked],
    }),
  );
  index.upsert(scimDomainFixture({ name: 'other', token: other }));
  index.upsert(scimDomainFixture({ name: 'paused', token: suspended, suspend: true }));
  server = await startVerifierServer({
    host: '127.0.0.1',
    port: 0,
    tls: undefined,
    listener: createVerifierHandler({ index, isReady: () => ready, metrics, log }),
    log,
  });
});

afterAll(async () => {
  await server?.close();
});

const verifyCount = async (result: string) => {
  const m = new RegExp(`scim_verify_requests_total\\{result="${result}"\\} (\\d+)`).exec(
    await metrics.render(),
  );
  return Number(m?.[1] ?? NaN);
};

describe('sha256Hex', () => {
  it('is the digest status records (tokenSha256), for tokens and for any other string', () => {
    for (const s of [valid, other, newToken(), '', 'ü∂ unicode', 'x'.repeat(1000)]) {
      expect(sha256Hex(s)).toBe(tokenSha256(s));
    }
  });
});

describe('GET /v1/verify', () => {
  it('answers 200 with the domain headers for a current token', async () => {
    const r = await call(server, '/v1/verify', { headers: bearer(valid) });
    expect(r.status).toBe(200);
    expect(r.headers).toMatchObject({
      'x-scim-domain': 'acme.example',
      'x-scim-domain-ref': 'tenants/acme',
      'x-scim-send-invitations': 'false',
      'x-scim-identity-provider': 'EntraID',
      'x-scim-token-id': 'tok-0123456789',
      'cache-control': 'no-store',
    });
    expect(r.body).toBe('');
  });

  it('answers for the domain the token belongs to', async () => {
    const r = await call(server, '/v1/verify', { headers: bearer(other) });
    expect(r.headers).toMatchObject({
      'x-scim-domain': 'other.example.com',
      'x-scim-send-invitations': 'true',
      'x-scim-identity-provider': 'Other',
    });
  });

  it.each([
    ['missing', {}, 'Bearer realm="scim"'],
    ['missing', { Authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, 'Bearer realm="scim"'],
    ['malformed', { Authorization: 'Bearer not-a-token' }, 'Bearer realm="scim", error="invalid_token"'],
    [
      'malformed',
      bearer(valid.slice(0, -1) + (valid.endsWith('A') ? 'B' : 'A')),
      'Bearer realm="scim", error="invalid_token"',
    ],
    ['unknown', bearer(newToken()), 'Bearer realm="scim", error="invalid_token"'],
    ['revoked', bearer(revoked), 'Bearer realm="scim", error="invalid_token"'],
    ['revoked', bearer(suspended), 'Bearer realm="scim", error="invalid_token"'],
  ])('answers 401 %s with an RFC 6750 challenge (%#)', async (reason, headers, challenge) => {
    const r = await call(server, '/v1/verify', { headers });
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe(challenge);
    expect(r.headers['content-type']).toBe('application/json');
    expect(JSON.parse(r.body)).toEqual({ reason });
    expect(r.headers['x-scim-domain']).toBeUndefined();
  });

  it('treats two Authorization headers as malformed even when one is valid', async () => {
    const raw = await exchange(
      `GET /v1/verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${valid}\r\n` +
        `Authorization: Bearer ${other}\r\nConnection: close\r\n\r\n`,
    );
    expect(raw).toMatch(/^HTTP\/1\.1 401 /);
    expect(raw).toContain('{"reason":"malformed"}');
  });

  it('answers requests that arrive together (one batch per event-loop turn) each with its own verdict', async () => {
    const cases = [
      { headers: bearer(valid), status: 200, ref: 'tenants/acme' },
      { headers: bearer(other), status: 200, ref: 'ns/other' },
      { headers: bearer(revoked), status: 401, reason: 'revoked' },
      { headers: bearer(newToken()), status: 401, reason: 'unknown' },
      { headers: {}, status: 401, reason: 'missing' },
    ];
    const sent = Array.from({ length: 100 }, (_, i) => cases[(i * 7) % cases.length]!);
    const replies = await Promise.all(sent.map((c) => call(server, '/v1/verify', { headers: c.headers })));
    replies.forEach((r, i) => {
      const want = sent[i]!;
      expect(r.status).toBe(want.status);
      if (want.ref) expect(r.headers['x-scim-domain-ref']).toBe(want.ref);
      else expect(JSON.parse(r.body)).toEqual({ reason: want.reason });
    });
  });

  it('answers pipelined requests on one connection in order', async () => {
    const get = (auth: string, last = false) =>
      `GET /v1/verify HTTP/1.1\r\nHost: x\r\n${auth}${last ? 'Connection: close\r\n' : ''}\r\n`;
    const raw = await exchange(
      get(`Authorization: Bearer ${revoked}\r\n`) +
        get(`Authorization: Bearer ${valid}\r\n`) +
        get('') +
        get(`Authorization: Bearer ${other}\r\n`, true),
    );
    const statuses = [...raw.matchAll(/HTTP\/1\.1 (\d+) /g)].map((m) => Number(m[1]));
    expect(statuses).toEqual([401, 200, 401, 200]);
    expect([...raw.matchAll(/X-Scim-Domain-Ref: (\S+)/gi)].map((m) => m[1])).toEqual([
      'tenants/acme',
      'ns/other',
    ]);
    expect([...raw.matchAll(/\{"reason":"(\w+)"\}/g)].map((m) => m[1])).toEqual(['revoked', 'missing']);
  });

  it('accepts any method and any path below /v1/verify (Envoy ext_authz appends the client path)', async () => {
    const post = await call(server, '/v1/verify/scim/v2/Users?filter=x', {
      method: 'POST',
      headers: bearer(valid),
    });
    expect(post.status).toBe(200);
    expect(post.headers['x-scim-domain']).toBe('acme.example');
    const head = await call(server, '/v1/verify', { method: 'HEAD', headers: bearer(valid) });
    expect(head.status).toBe(200);
    expect((await call(server, '/v1/verifyx', { headers: bearer(valid) })).status).toBe(404);
  });

  it('never puts the token into a response, accepted or not', async () => {
    for (const t of [valid, revoked, newToken(), `${valid}x`]) {
      const r = await call(server, '/v1/verify', { headers: bearer(t) });
      expect(JSON.stringify(r.headers) + r.body).not.toContain(t.slice(4));
    }
  });

  it('counts every answer by result in the verify metrics', async () => {
    const before = await verifyCount('valid');
    const unknownBefore = await verifyCount('unknown');
    await call(server, '/v1/verify', { headers: bearer(valid) });
    await call(server, '/v1/verify', { headers: bearer(newToken()) });
    expect(await verifyCount('valid')).toBe(before + 1);
    expect(await verifyCount('unknown')).toBe(unknownBefore + 1);
    expect(await metrics.render()).toMatch(
      /scim_verify_request_duration_seconds_count\{result="valid"\} \d+/,
    );
  });

  it('writes no log line for requests, accepted or rejected', async () => {
    const before = logLines.length;
    await call(server, '/v1/verify', { headers: bearer(valid) });
    await call(server, '/v1/verify', { headers: bearer(newToken()) });
    await call(server, '/v1/verify', { headers: { Authorization: 'Bearer nope' } });
    expect(logLines.slice(before)).toEqual([]);
  });
});

describe('POST /v1/tokenreviews', () => {
  const review = (body: unknown) =>
    call(server, '/v1/tokenreviews', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('authenticates a current token and describes its domain, without echoing the spec', async () => {
    const r = await review({
      apiVersion: 'scim.tokens.dev/v1alpha1',
      kind: 'TokenReview',
      spec: { token: valid },
    });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({
      apiVersion: 'scim.tokens.dev/v1alpha1',
      kind: 'TokenReview',
      status: {
        authenticated: true,
        domain: 'acme.example',
        domainRef: 'tenants/acme',
        sendEmailInvitations: false,
        identityProvider: 'EntraID',
        tokenId: 'tok-0123456789',
      },
    });
    expect(r.body).not.toContain(valid);
  });

  it.each([
    ['missing', {}],
    ['missing', { token: '' }],
    ['malformed', { token: 'abc' }],
    ['malformed', { token: 7 }],
    ['malformed', { token: `Bearer ${valid}` }],
    ['unknown', { token: newToken() }],
    ['revoked', { token: revoked }],
  ])('does not authenticate: %s (%#)', async (reason, spec) => {
    const r = await review({ spec });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({
      apiVersion: 'scim.tokens.dev/v1alpha1',
      kind: 'TokenReview',
      status: { authenticated: false, reason },
    });
  });

  it.each([
    ['invalid JSON', '{"spec":', 'the body is not valid JSON'],
    ['a JSON array', '[]', 'expected a TokenReview: {"spec": {"token": "<token>"}}'],
    ['no spec', '{"token":"x"}', 'expected a TokenReview: {"spec": {"token": "<token>"}}'],
  ])('answers 400 for %s', async (_, body, message) => {
    const r = await review(body);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body)).toEqual({ reason: 'bad request', message });
  });

  it('answers 413 for a body over the limit, declared or streamed', async () => {
    const big = JSON.stringify({ spec: { token: 'x'.repeat(MAX_REVIEW_BODY_BYTES) } });
    expect((await review(big)).status).toBe(413);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: server.address.port,
          path: '/v1/tokenreviews',
          method: 'POST',
          agent: false,
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      // No Content-Length: chunked, so only counting the bytes can catch it.
      for (let i = 0; i < 8; i++) req.write('x'.repeat(4096));
      req.end();
    });
    expect(chunked).toBe(413);
  });

  it('allows POST only', async () => {
    const r = await call(server, '/v1/tokenreviews');
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('POST');
  });
});

describe('readiness', () => {
  it('answers 503 to verify, reviews and /readyz until the index is synced, and 200 after', async () => {
    ready = false;
    try {
      const v = await call(server, '/v1/verify', { headers: bearer(valid) });
      expect(v.status).toBe(503);
      expect(v.headers['retry-after']).toBe('1');
      const rv = await call(server, '/v1/tokenreviews', {
        method: 'POST',
        body: JSON.stringify({ spec: { token: valid } }),
      });
      expect(rv.status).toBe(503);
      expect((await call(server, '/readyz')).status).toBe(503);
      expect((await call(server, '/healthz')).status).toBe(200);
    } finally {
      ready = true;
    }
    expect((await call(server, '/readyz')).status).toBe(200);
    expect((await call(server, '/v1/verify', { headers: bearer(valid) })).status).toBe(200);
  });

  it('answers 404 for anything else', async () => {
    expect((await call(server, '/metrics')).status).toBe(404);
    expect((await call(server, '/')).status).toBe(404);
  });
});

describe('a request whose answer fails', () => {
  it('gets a 500 and its batch is answered all the same, with one log line that holds no token', async () => {
    const poison = newToken();
    const failing = await startVerifierServer({
      host: '127.0.0.1',
      port: 0,
      tls: undefined,
      listener: createVerifierHandler({
        index: {
          lookup: (sha) => {
            if (sha === sha256Hex(poison)) throw new Error('index broke');
            return index.lookup(sha);
          },
        },
        isReady: () => true,
        metrics,
        log,
      }),
      log,
    });
    try {
      const before = logLines.length;
      const tokens = [valid, poison, other, valid];
      const replies = await Promise.all(
        tokens.map((t) => call(failing, '/v1/verify', { headers: bearer(t) })),
      );
      expect(replies.map((r) => r.status)).toEqual([200, 500, 200, 200]);
      const lines = logLines.slice(before);
      expect(lines.filter((l) => l.includes('verifier request failed'))).toHaveLength(1);
      for (const t of tokens) expect(lines.join('\n')).not.toContain(t);
    } finally {
      await failing.close();
    }
  });
});
