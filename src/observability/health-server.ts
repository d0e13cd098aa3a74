// The operational HTTP endpoint (SPEC §4, §5 `--metrics-addr`): /healthz for liveness probes, /readyz
// for readiness probes, /metrics for Prometheus. Plain HTTP on purpose: it carries no credentials and
// kubelet probes and Prometheus scrape it in-cluster.
//
// Probes arrive every few seconds, so requests are not logged; only failures are.

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { ListenAddress } from '../api/listen-address.js';
import { listen } from './listen.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

export interface HealthServerOptions {
  /** "" or "0.0.0.0" listens on all interfaces; port 0 picks a free port (see `address`). */
  host: string;
  port: number;
  metrics: Pick<Metrics, 'renderChunks' | 'contentType'>;
  /** Readiness, e.g. "caches synced"; evaluated per request. */
  isReady: () => boolean;
  /** Liveness; default always live. */
  isLive?: () => boolean;
  log: Logger;
}

export interface HealthServer {
  server: Server;
  /** The address actually bound (the real port when 0 was asked for). */
  address: ListenAddress;
  /** Stops accepting connections and resolves once open ones are closed. Safe to call twice. */
  close(): Promise<void>;
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const { log } = options;
  const server = createServer((req, res) => {
    handle(options, req, res).catch((err: unknown) => {
      log.error({ err, path: req.url }, 'health server request failed');
      if (!res.headersSent) send(res, 500, 'internal error');
      else res.destroy();
    });
  });
  // Keep-alive connections from scrapers would otherwise hold close() open for the idle timeout.
  server.keepAliveTimeout = 5_000;

  const address = await listen(server, options);
  server.on('error', (err) => log.error({ err }, 'health server error'));
  log.info({ address: `${address.host}:${address.port}` }, 'health server listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeIdleConnections();
    });
    return closing;
  };
  return { server, address, close };
}

async function handle(
  options: HealthServerOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  // The host part is irrelevant and may be absent or bogus; only the path is routed.
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const route = ROUTES[path];
  if (route === undefined) {
    send(res, 404, 'not found');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    send(res, 405, 'method not allowed');
    return;
  }
  await route(options, res);
}

type Route = (options: HealthServerOptions, res: ServerResponse) => void | Promise<void>;

const ROUTES: Readonly<Record<string, Route>> = {
  '/healthz': (options, res) => {
    const live = check(options, options.isLive ?? (() => true), 'liveness');
    if (live === true) send(res, 200, 'ok');
    else send(res, 503, live);
  },
  '/readyz': (options, res) => {
    const ready = check(options, options.isReady, 'readiness');
    if (ready === true) send(res, 200, 'ok');
    else send(res, 503, ready);
  },
  // Streamed a chunk at a time (chunked encoding, waiting for the socket to drain): the per-domain
  // series of 10,000 domains are 4 MB of text that are never held at once (metrics.ts).
  '/metrics': async (options, res) => {
    const chunks = options.metrics.renderChunks();
    // The first chunk (prom-client's metrics) before the headers: a failure there is still a 500.
    const first = await chunks.next();
    res.writeHead(200, {
      'Content-Type': options.metrics.contentType,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    if (res.req.method === 'HEAD') {
      res.end();
      return;
    }
    if (!first.done && !res.write(first.value)) await drained(res);
    for await (const chunk of chunks) {
      if (res.destroyed) return;
      if (!res.write(chunk)) await drained(res);
    }
    res.end();
  },
};

/** Resolves when the response can take more, or is gone (a scraper that hung up). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** true, or the reason to report with a 503. */
function check(options: HealthServerOptions, probe: () => boolean, what: string): true | string {
  try {
    return probe() ? true : what === 'readiness' ? 'not ready' : 'not live';
  } catch (err) {
    options.log.error({ err }, `${what} check threw`);
    return `${what} check failed`;
  }
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  contentType = 'text/plain; charset=utf-8',
): void {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  // For HEAD, node sends the headers (with the GET length) and drops the body.
  res.end(body);
}
