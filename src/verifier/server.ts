// The verifier's listener (SPEC §4, §5 `--verify-addr`): node:https with the given TLS material, or
// node:http when the operator was told `--verify-insecure`. No framework: the request listener is the
// handler of handler.ts, called directly.
//
// Deadlines, so that a slow or idle client cannot hold the auth path (SPEC §4): a TLS handshake, the
// request headers and the whole request (body included) must each arrive within 10 s, checked every
// second (Node checks every 30 s by default, which would let a trickled body live ~40 s); an idle
// keep-alive connection is closed after 65 s; beyond `maxConnections` open connections new ones are
// closed at once.

import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { formatAddress, type ListenAddress } from '../api/listen-address.js';
import { listen } from '../observability/listen.js';
import type { Logger } from '../observability/logger.js';
import type { TlsMaterial } from './tls.js';

export interface VerifierServerOptions {
  /** "" or "0.0.0.0" listens on all interfaces; port 0 picks a free port (see `address`). */
  host: string;
  port: number;
  /** undefined: plain HTTP. */
  tls: TlsMaterial | undefined;
  listener: RequestListener;
  /** Open connections beyond this are closed at once; default unlimited. */
  maxConnections?: number;
  log: Logger;
}

export interface VerifierServer {
  readonly server: Server | HttpsServer;
  /** The address actually bound. */
  readonly address: ListenAddress;
  /** `https://host:port` or `http://host:port`, for logs and tests. */
  readonly url: string;
  /** Serves new connections with other TLS material (renewal, a rotated mounted Secret). */
  setTls(material: TlsMaterial): void;
  /** From now on every response closes its connection, so keep-alive clients reconnect elsewhere. */
  startDraining(): void;
  /** Stops accepting connections; resolves once open ones are closed. Safe to call twice. */
  close(): Promise<void>;
}

// Above the idle timeouts of the proxies in front (nginx upstream keepalive 60s, ALBs 60s): the proxy
// closes an idle connection first, so it never sends a request on one we are closing (a 502).
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** Request headers must be complete this long after the request began. */
export const HEADERS_TIMEOUT_MS = 10_000;
/** The whole request, body included, must have arrived this long after it began. */
export const REQUEST_TIMEOUT_MS = 10_000;
/** A TLS handshake must complete this long after the connection opened. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
const CONNECTIONS_CHECKING_INTERVAL_MS = 1_000;
// On shutdown, connections still busy after this long are cut.
const CLOSE_GRACE_MS = 5_000;

export async function startVerifierServer(options: VerifierServerOptions): Promise<VerifierServer> {
  const { log, tls } = options;
  let draining = false;
  const listener: RequestListener = (req, res) => {
    if (draining) res.shouldKeepAlive = false;
    options.listener(req, res);
  };
  const deadlines = {
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS,
  };
  const server: Server | HttpsServer =
    tls === undefined
      ? createHttpServer(deadlines, listener)
      : createHttpsServer(
          { ...deadlines, cert: tls.cert, key: tls.key, handshakeTimeout: HANDSHAKE_TIMEOUT_MS },
          listener,
        );
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  if (options.maxConnections !== undefined) server.maxConnections = options.maxConnections;

  const address = await listen(server, options, '--verify-addr: ');
  server.on('error', (err) => log.error({ err }, 'verifier server error'));
  // TLS handshake failures (scanners, clients that do not trust a self-signed certificate) are
  // routine; they would flood the log at anything above debug.
  server.on('tlsClientError', (err: Error & { code?: string }) =>
    log.debug({ code: err.code }, 'verifier TLS handshake failed'),
  );

  const url = `${tls === undefined ? 'http' : 'https'}://${formatAddress(address)}`;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve, reject) => {
      const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
      force.unref();
      server.close((err) => {
        clearTimeout(force);
        if (err) reject(err);
        else resolve();
      });
      server.closeIdleConnections();
    });
    return closing;
  };
  const setTls = (material: TlsMaterial): void => {
    if (!('setSecureContext' in server)) {
      throw new Error('the verifier serves plain HTTP; it has no TLS to replace');
    }
    server.setSecureContext({ cert: material.cert, key: material.key });
  };
  const startDraining = (): void => {
    draining = true;
  };
  return { server, address, url, setTls, startDraining, close };
}
