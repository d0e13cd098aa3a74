import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateSelfSigned } from '../verifier/tls.js';
import { ENTRA_CLOUDS, EntraClient, clean, type EntraDelivery } from './entra.js';

// A scripted HTTPS server on loopback: each request takes the next answer of its path's queue.
interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}
const tls = generateSelfSigned({ now: new Date(), ipAddresses: ['127.0.0.1'] });
let server: Server;
let base: string;
const script = new Map<string, Answer[]>();
const seen: { method: string; path: string; authorization?: string; body: string }[] = [];

beforeAll(async () => {
  server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const path = (req.url ?? '').startsWith('/login') ? 'token' : 'graph';
      seen.push({ method: req.method ?? '', path, authorization: req.headers.authorization, body });
      const a = script.get(path)?.shift() ?? { status: 500, body: 'unscripted' };
      res.writeHead(a.status, a.headers ?? {});
      res.end(a.body ?? '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

beforeEach(() => {
  script.clear();
  seen.length = 0;
});

const TOKEN = `sct_${'A'.repeat(46)}`;
const SECRET = 'client-secret-value~123';
const DELIVERY: EntraDelivery = {
  cloud: 'Global',
  tenantId: 'tenant-1',
  servicePrincipalId: 'sp-1',
  clientId: 'client-1',
  clientSecret: SECRET,
  baseAddress: 'https://app.example.com/scim',
  token: TOKEN,
};
const accessToken = (n: number) => `eyJhbGciOiJub25lIn0.eyJzdWIiOiJ0ZXN0In${n}.c2lnbmF0dXJl`;
const granted = (n: number, expiresIn = 3600): Answer => ({
  status: 200,
  body: JSON.stringify({ token_type: 'Bearer', expires_in: expiresIn, access_token: accessToken(n) }),
});

function client(opts: { now?: () => Date; sleeps?: number[] } = {}) {
  return new EntraClient({
    authorityUrl: `${base}/login/`,
    graphUrl: `${base}/graph`,
    extraCa: tls.cert,
    log: pino({ level: 'silent' }),
    now: opts.now ?? (() => new Date()),
    random: () => 0,
    sleep: (ms) => {
      opts.sleeps?.push(ms);
      return Promise.resolve();
    },
  });
}

describe('EntraClient', () => {
  it('knows the three clouds and lets the flags replace their endpoints', () => {
    expect(ENTRA_CLOUDS.USGovernment).toEqual({
      authority: 'https://login.microsoftonline.us',
      graph: 'https://graph.microsoft.us',
    });
    expect(client().endpoints('China')).toEqual({ authority: `${base}/login`, graph: `${base}/graph` });
    const plain = new EntraClient({ log: pino({ level: 'silent' }) });
    expect(plain.endpoints('China')).toEqual({
      authority: 'https://login.chinacloudapi.cn',
      graph: 'https://microsoftgraph.chinacloudapi.cn',
    });
    plain.close();
  });

  it('trusts only the system CAs without --extra-ca-file (the self-signed server is refused)', async () => {
    const c = new EntraClient({
      authorityUrl: `${base}/login`,
      graphUrl: `${base}/graph`,
      log: pino({ level: 'silent' }),
      sleep: () => Promise.resolve(),
      maxAttempts: 1,
    });
    const out = await c.deliverEntra(DELIVERY);
    c.close();
    expect(out.ok).toBe(false);
    expect(!out.ok && out.message).toMatch(/certificate/i);
  });

  it('caches the access token until shortly before it expires', async () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const c = client({ now: () => now });
    script.set('token', [granted(1), granted(2)]);
    script.set('graph', [{ status: 204 }, { status: 204 }, { status: 204 }]);
    expect(await c.deliverEntra(DELIVERY)).toEqual({ ok: true });
    now = new Date('2026-01-01T00:54:00Z');
    expect(await c.deliverEntra(DELIVERY)).toEqual({ ok: true });
    now = new Date('2026-01-01T00:56:00Z'); // within 5 minutes of expiry: a new one
    expect(await c.deliverEntra(DELIVERY)).toEqual({ ok: true });
    c.close();
    expect(seen.map((s) => s.path)).toEqual(['token', 'graph', 'graph', 'token', 'graph']);
    expect(seen.filter((s) => s.path === 'graph').map((s) => s.authorization)).toEqual([
      `Bearer ${accessToken(1)}`,
      `Bearer ${accessToken(1)}`,
      `Bearer ${accessToken(2)}`,
    ]);
  });

  it('gets a new access token once when Graph refuses a cached one', async () => {
    const c = client();
    script.set('token', [granted(1), granted(2)]);
    script.set('graph', [{ status: 204 }, { status: 401 }, { status: 204 }]);
    await c.deliverEntra(DELIVERY);
    expect(await c.deliverEntra(DELIVERY)).toEqual({ ok: true });
    c.close();
    expect(seen.map((s) => s.path)).toEqual(['token', 'graph', 'graph', 'token', 'graph']);
  });

  it.each([
    { retryAfter: '2', want: 2000 },
    { retryAfter: new Date(Date.now() + 3_600_000).toUTCString(), want: 'fail' },
  ])('honours Retry-After $retryAfter', async ({ retryAfter, want }) => {
    const sleeps: number[] = [];
    const c = client({ sleeps });
    script.set('token', [granted(1)]);
    script.set('graph', [{ status: 429, headers: { 'retry-after': retryAfter } }, { status: 204 }]);
    const out = await c.deliverEntra(DELIVERY);
    c.close();
    if (want === 'fail') {
      // An hour is too long to hold a worker: the attempt ends and says when to come back.
      expect(out.ok).toBe(false);
      expect(!out.ok && out.retryAfterMs).toBeGreaterThan(3_500_000);
      expect(sleeps).toEqual([]);
    } else {
      expect(out).toEqual({ ok: true });
      expect(sleeps).toEqual([want]);
    }
  });

  it('backs off exponentially on 5xx and gives up after 5 attempts with a readable message', async () => {
    const sleeps: number[] = [];
    const c = client({ sleeps });
    script.set('token', [granted(1)]);
    script.set(
      'graph',
      Array.from({ length: 5 }, () => ({
        status: 503,
        body: JSON.stringify({ error: { code: 'ServiceUnavailable', message: 'Try later.\nrequest-id: x' } }),
      })),
    );
    const out = await c.deliverEntra(DELIVERY);
    c.close();
    expect(sleeps).toEqual([250, 500, 1000, 2000]);
    expect(out).toEqual({
      ok: false,
      message:
        'writing the provisioning credentials of service principal sp-1 at ' +
        `${new URL(base).host} failed 5 times: HTTP 503: ServiceUnavailable: Try later.`,
    });
  });

  it.each([
    { status: 403, code: 'Authorization_RequestDenied', hint: 'Synchronization.ReadWrite.All' },
    { status: 404, code: 'Request_ResourceNotFound', hint: 'servicePrincipalId' },
    { status: 400, code: 'BadRequest', hint: 'HTTP 400: BadRequest' },
  ])('reports Graph $status without retrying', async ({ status, code, hint }) => {
    const sleeps: number[] = [];
    const c = client({ sleeps });
    script.set('token', [granted(1)]);
    script.set('graph', [{ status, body: JSON.stringify({ error: { code, message: 'no' } }) }]);
    const out = await c.deliverEntra(DELIVERY);
    c.close();
    expect(out.ok).toBe(false);
    expect(!out.ok && out.message).toContain(hint);
    expect(sleeps).toEqual([]);
  });

  it('never repeats the client secret, the SCIM token or the access token a server echoes back', async () => {
    const c = client();
    script.set('token', [granted(7)]);
    script.set('graph', [
      {
        status: 400,
        body: JSON.stringify({
          error: { code: 'BadRequest', message: `bad ${TOKEN} ${SECRET} ${accessToken(7)}` },
        }),
      },
    ]);
    const graphOut = await c.deliverEntra(DELIVERY);
    script.set('token', [
      {
        status: 401,
        body: JSON.stringify({ error: 'invalid_client', error_description: `secret ${SECRET}` }),
      },
    ]);
    const fresh = new EntraClient({
      authorityUrl: `${base}/login`,
      graphUrl: `${base}/graph`,
      extraCa: tls.cert,
      log: pino({ level: 'silent' }),
    });
    const tokenOut = await fresh.deliverEntra(DELIVERY);
    c.close();
    fresh.close();
    for (const out of [graphOut, tokenOut]) {
      expect(out.ok).toBe(false);
      const message = out.ok ? '' : out.message;
      expect(message).toContain('[REDACTED]');
      for (const secret of [TOKEN, SECRET, accessToken(7)]) expect(message).not.toContain(secret);
    }
  });
});

describe('clean', () => {
  it.each([
    { text: `x ${SECRET} y`, want: 'x [REDACTED] y' },
    { text: `token ${TOKEN}`, want: 'token sct_[REDACTED]' },
    { text: 'short abc', want: 'short abc' },
  ])('makes $text safe to show', ({ text, want }) => {
    expect(clean(text, [SECRET, 'abc'])).toBe(want);
  });

  it('cuts long text short', () => {
    expect(clean('a'.repeat(5000), []).length).toBeLessThanOrEqual(1025);
  });
});
