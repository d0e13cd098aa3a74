import { Writable } from 'node:stream';
import { afterEach, describe, it, expect } from 'vitest';
import { startHealthServer } from './health-server.js';
import type { HealthServer, HealthServerOptions } from './health-server.js';
import { createLogger } from './logger.js';
import { Metrics } from './metrics.js';

const servers: HealthServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function captureLog(): { log: HealthServerOptions['log']; output: () => string } {
  let out = '';
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  return { log: createLogger({ level: 'info', destination }), output: () => out };
}

async function start(
  overrides: Partial<HealthServerOptions> = {},
): Promise<{ url: string; server: HealthServer }> {
  const metrics = new Metrics({ defaultMetrics: false });
  const server = await startHealthServer({
    host: '127.0.0.1',
    port: 0,
    metrics,
    isReady: () => true,
    log: createLogger({ level: 'silent' }),
    ...overrides,
  });
  servers.push(server);
  return { url: `http://127.0.0.1:${server.address.port}`, server };
}

describe('startHealthServer', () => {
  it('binds a free port when asked for port 0 and reports it', async () => {
    const { server } = await start();
    expect(server.address.host).toBe('127.0.0.1');
    expect(server.address.port).toBeGreaterThan(0);
  });

  it.each([
    { path: '/healthz', options: {}, status: 200, body: 'ok' },
    { path: '/healthz', options: { isLive: () => false }, status: 503, body: 'not live' },
    { path: '/readyz', options: { isReady: () => true }, status: 200, body: 'ok' },
    { path: '/readyz', options: { isReady: () => false }, status: 503, body: 'not ready' },
    { path: '/readyz?verbose', options: { isReady: () => true }, status: 200, body: 'ok' },
    { path: '/', options: {}, status: 404, body: 'not found' },
    { path: '/healthz/extra', options: {}, status: 404, body: 'not found' },
    { path: '/v1/verify', options: {}, status: 404, body: 'not found' },
  ])('answers GET $path with $status "$body"', async ({ path, options, status, body }) => {
    const { url } = await start(options);
    const res = await fetch(`${url}${path}`);
    expect(res.status).toBe(status);
    expect(await res.text()).toBe(body);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('follows readiness as it changes, without restarting', async () => {
    let ready = false;
    const { url } = await start({ isReady: () => ready });
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    ready = true;
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  });

  it('answers 503 and logs when a readiness check throws', async () => {
    const { log, output } = captureLog();
    const { url } = await start({
      log,
      isReady: () => {
        throw new Error('informer gone');
      },
    });
    const res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('readiness check failed');
    expect(output()).toContain('informer gone');
  });

  it('serves the metrics registry in the Prometheus text format', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    metrics.setLeader(true);
    const { url } = await start({ metrics });
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(metrics.contentType);
    expect(await res.text()).toContain('\nscim_leader 1\n');
  });

  it('answers 500 and logs when rendering metrics fails', async () => {
    const { log, output } = captureLog();
    const metrics = {
      contentType: 'text/plain',
      // eslint-disable-next-line require-yield, @typescript-eslint/require-await
      renderChunks: async function* (): AsyncGenerator<string> {
        throw new Error('collector broke');
      },
    };
    const { url } = await start({ log, metrics });
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(500);
    expect(output()).toContain('collector broke');
  });

  it('answers HEAD like GET without a body', async () => {
    const { url } = await start();
    const res = await fetch(`${url}/healthz`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });

  it.each(['POST', 'PUT', 'DELETE'])(
    'refuses %s on a known path with 405 and an Allow header',
    async (method) => {
      const { url } = await start();
      const res = await fetch(`${url}/healthz`, { method });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
    },
  );

  it('stops listening on close, even with a keep-alive connection open, and tolerates a second close', async () => {
    const { url, server } = await start();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    await server.close();
    await server.close();
    expect(server.server.listening).toBe(false);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('rejects with the address when the port is taken', async () => {
    const { server } = await start();
    await expect(start({ port: server.address.port })).rejects.toThrow(
      `cannot listen on 127.0.0.1:${server.address.port}`,
    );
  });
});
