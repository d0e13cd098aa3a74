// The verifier listener's deadlines and connection cap (SPEC §4), over raw sockets: what a slow,
// idle or greedy client can and cannot hold. These wait for the real deadlines (10 s), so the slow
// cases run side by side in one test each.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { createVerifierHandler } from './handler.js';
import { startVerifierServer, type VerifierServer } from './server.js';
import { TokenIndex } from './token-index.js';

const log = createLogger({ level: 'silent' });
const servers: VerifierServer[] = [];
const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(maxConnections?: number): Promise<VerifierServer> {
  const server = await startVerifierServer({
    host: '127.0.0.1',
    port: 0,
    tls: undefined,
    listener: createVerifierHandler({
      index: new TokenIndex(),
      isReady: () => true,
      metrics: new Metrics({ defaultMetrics: false }),
      log,
      batch: false,
    }),
    ...(maxConnections !== undefined ? { maxConnections } : {}),
    log,
  });
  servers.push(server);
  return server;
}

interface Conn {
  socket: net.Socket;
  /** Everything received so far. */
  received(): string;
  /** Resolves with the milliseconds from connecting until the server closed the connection. */
  closed: Promise<number>;
}

function open(server: VerifierServer): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const startedAt = Date.now();
    const socket = net.connect(server.address.port, '127.0.0.1');
    sockets.push(socket);
    let data = '';
    socket.setEncoding('latin1').on('data', (d: string) => (data += d));
    const closed = new Promise<number>((r) => socket.on('close', () => r(Date.now() - startedAt)));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, received: () => data, closed }));
    socket.once('error', reject);
  });
}

/** Writes `text` one byte every `everyMs` until the socket closes. */
function trickle(socket: net.Socket, text: string, everyMs: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || i >= text.length) clearInterval(timer);
    else socket.write(text[i++]!);
  }, everyMs);
}

function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)),
  ]);
}

const VERIFY = 'GET /v1/verify HTTP/1.1\r\nHost: v\r\n\r\n';

describe('deadlines', () => {
  it('cuts off a trickled body and trickled headers within 15 s, and keeps an idle keep-alive connection', async () => {
    const server = await start();
    const body = JSON.stringify({ spec: { token: 'x'.repeat(200) } });
    const slowBody = await open(server);
    slowBody.socket.write(
      `POST /v1/tokenreviews HTTP/1.1\r\nHost: v\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    trickle(slowBody.socket, body, 1_000);
    const slowHeaders = await open(server);
    trickle(
      slowHeaders.socket,
      `GET /v1/verify HTTP/1.1\r\nHost: v\r\nX-Pad: ${'a'.repeat(100)}\r\n\r\n`,
      1_000,
    );
    const keptAlive = await open(server);
    keptAlive.socket.write(VERIFY);

    const [bodyMs, headersMs] = await Promise.all([
      within(15_000, 'the trickled body cut off', slowBody.closed),
      within(15_000, 'the trickled headers cut off', slowHeaders.closed),
    ]);
    expect(bodyMs).toBeGreaterThanOrEqual(9_000);
    expect(headersMs).toBeGreaterThanOrEqual(9_000);
    // A deadline is a 408 (or a plain close), never an answer to the unfinished request.
    expect(slowBody.received()).not.toMatch(/^HTTP\/1\.1 (200|401)/);
    expect(slowHeaders.received()).not.toMatch(/^HTTP\/1\.1 (200|401)/);

    // Idle for as long as the deadlines above, and still open: a second request is answered on it.
    expect(keptAlive.received()).toMatch(/^HTTP\/1\.1 401/);
    expect(keptAlive.socket.destroyed).toBe(false);
    const before = keptAlive.received().length;
    keptAlive.socket.write(VERIFY);
    await within(
      5_000,
      'the second answer',
      waitFor(() => keptAlive.received().length > before),
    );
    expect(keptAlive.received().slice(before)).toMatch(/^HTTP\/1\.1 401/);
  }, 30_000);

  it('answers a valid request while many idle connections are open', async () => {
    const server = await start();
    const idle = await Promise.all(Array.from({ length: 500 }, () => open(server)));
    const conn = await open(server);
    conn.socket.write(VERIFY);
    await within(
      5_000,
      'an answer',
      waitFor(() => conn.received().includes('\r\n\r\n')),
    );
    expect(conn.received()).toMatch(/^HTTP\/1\.1 401/);
    expect(idle.every((c) => !c.socket.destroyed)).toBe(true);
  });

  it('closes connections beyond the cap at once, and takes new ones when others have gone', async () => {
    const server = await start(20);
    const held = await Promise.all(Array.from({ length: 20 }, () => open(server)));
    const refused = await open(server);
    refused.socket.write(VERIFY);
    await within(5_000, 'the connection over the cap closed', refused.closed);
    expect(refused.received()).toBe('');

    for (const c of held.slice(0, 5)) c.socket.destroy();
    await Promise.all(held.slice(0, 5).map((c) => c.closed));
    const later = await open(server);
    later.socket.write(VERIFY);
    await within(
      5_000,
      'an answer',
      waitFor(() => later.received().includes('\r\n\r\n')),
    );
    expect(later.received()).toMatch(/^HTTP\/1\.1 401/);
  });

  it('closes each connection after its response once draining', async () => {
    const server = await start();
    server.startDraining();
    const conn = await open(server);
    conn.socket.write(VERIFY);
    await within(5_000, 'the connection closed after the answer', conn.closed);
    expect(conn.received()).toMatch(/^HTTP\/1\.1 401/);
    expect(conn.received()).toMatch(/\r\nConnection: close\r\n/i);
  });
});

async function waitFor(probe: () => boolean): Promise<void> {
  while (!probe()) await new Promise((r) => setTimeout(r, 20));
}
