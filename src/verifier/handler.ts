// The verifier's HTTP routes (SPEC §4): `/v1/verify` for proxies (ingress-nginx auth-url, Traefik
// ForwardAuth, Envoy ext_authz), `POST /v1/tokenreviews` for applications that ask directly, and the
// `/healthz` and `/readyz` probes of the verifier port.
//
// The hot path is a plain node:http listener: a header read, the format pre-check, one SHA-256, one
// Map lookup, and a response whose headers were built when the index learnt the token. Responses for
// rejections are prebuilt constants. Nothing is logged per request (SPEC §4, and a flood of bad tokens
// must not become a flood of log lines); every request is counted in the verify metrics instead.
//
// The token never leaves this module: not in a response header or body, not in a log line, not in a
// metric label. Response headers carry only what the ScimDomain status says about the token.

import { hash } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, RequestListener, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { API_VERSION } from '../api/types.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics, VerifyResult } from '../observability/metrics.js';
import { credentialFromRawHeaders, credentialOf, type Credential } from './bearer.js';
import type { Lookup, TokenGrant, TokenIndex } from './token-index.js';

export const VERIFY_PATH = '/v1/verify';
export const TOKEN_REVIEWS_PATH = '/v1/tokenreviews';
/** A TokenReview is a few hundred bytes; anything much larger is not one. */
export const MAX_REVIEW_BODY_BYTES = 16 * 1024;

export const Header = {
  domain: 'X-Scim-Domain',
  domainRef: 'X-Scim-Domain-Ref',
  sendInvitations: 'X-Scim-Send-Invitations',
  identityProvider: 'X-Scim-Identity-Provider',
  tokenId: 'X-Scim-Token-Id',
  tokenExpires: 'X-Scim-Token-Expires',
} as const;

/** The headers a proxy should copy from a 200 of `/v1/verify` to the application. */
export const GRANT_HEADERS: readonly string[] = Object.values(Header);

export type RejectReason = 'missing' | 'malformed' | 'revoked' | 'unknown';

export interface TokenReviewStatus {
  authenticated: boolean;
  reason?: RejectReason;
  domain?: string;
  domainRef?: string;
  sendEmailInvitations?: boolean;
  identityProvider?: string;
  tokenId?: string;
  /** A previous token in its overlap: when it stops verifying. */
  expiresAt?: string;
}

export interface TokenReviewResponse {
  apiVersion: typeof API_VERSION;
  kind: 'TokenReview';
  status: TokenReviewStatus;
}

export interface HandlerDeps {
  index: Pick<TokenIndex, 'lookup'>;
  /** `/readyz` of the verify port: false until the initial list is indexed, when stale, when draining. */
  isReady: () => boolean;
  /**
   * Whether token checks are answered (else 503): false until the initial list is indexed and while
   * the index is staler than allowed, but still true while draining. Default `isReady`.
   */
  isServing?: () => boolean;
  metrics: Pick<Metrics, 'recordVerifyRequest'>;
  log: Logger;
  /** Monotonic milliseconds for request durations; default `performance.now`. */
  clock?: () => number;
  /**
   * Answer `/v1/verify` requests in batches, once per event-loop turn (default true); false answers
   * each one at once, synchronously (for measuring the handler alone). See `createVerifierHandler`.
   */
  batch?: boolean;
}

const REALM = 'scim';

// RFC 6750 §3: a request without credentials gets the challenge without an error code (§3.1);
// anything else is an invalid token. Always 401, never 400: nginx's auth_request turns any status but
// 2xx/401/403 into a 500 for the client.
const CHALLENGE_MISSING = `Bearer realm="${REALM}"`;
const CHALLENGE_INVALID = `Bearer realm="${REALM}", error="invalid_token"`;

const COMMON_HEADERS: OutgoingHttpHeaders = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

interface Prebuilt {
  readonly status: number;
  /**
   * The flat [name, value, …] list writeHead takes: Node walks it with a counted loop, where an
   * object costs a `for…in` and an own-property check per header on every response.
   */
  readonly headers: readonly string[];
  /**
   * ASCII JSON as a string, not a Buffer: Node then writes status line, headers and body as one
   * string in one write, instead of a header string plus a buffer.
   */
  readonly body: string;
}

function json(status: number, body: unknown, extra: OutgoingHttpHeaders = {}): Prebuilt {
  // Non-ASCII escaped as \uXXXX leaves pure ASCII: length in characters = length in bytes, and a
  // latin1 write sends it unchanged.
  const text = JSON.stringify(body).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  const headers: OutgoingHttpHeaders = {
    ...COMMON_HEADERS,
    'Content-Type': 'application/json',
    'Content-Length': text.length,
    ...extra,
  };
  return Object.freeze({
    status,
    body: text,
    headers: Object.freeze(Object.entries(headers).flatMap(([name, value]) => [name, String(value)])),
  });
}

const REJECTIONS: Readonly<Record<RejectReason, Prebuilt>> = {
  missing: json(401, { reason: 'missing' }, { 'WWW-Authenticate': CHALLENGE_MISSING }),
  malformed: json(401, { reason: 'malformed' }, { 'WWW-Authenticate': CHALLENGE_INVALID }),
  revoked: json(401, { reason: 'revoked' }, { 'WWW-Authenticate': CHALLENGE_INVALID }),
  unknown: json(401, { reason: 'unknown' }, { 'WWW-Authenticate': CHALLENGE_INVALID }),
};
// Until the first list is indexed every token would look unknown; refusing to answer is honest, and
// proxies fail closed on it.
const NOT_READY = json(503, { reason: 'not ready' }, { 'Retry-After': '1' });
const NOT_FOUND = json(404, { reason: 'not found' });
const INTERNAL_ERROR = json(500, { reason: 'internal error' });
const BAD_JSON = json(400, { reason: 'bad request', message: 'the body is not valid JSON' });
const BAD_SHAPE = json(400, {
  reason: 'bad request',
  message: 'expected a TokenReview: {"spec": {"token": "<token>"}}',
});
const TOO_LARGE = json(413, { reason: 'body too large', limitBytes: MAX_REVIEW_BODY_BYTES });
const METHOD_POST_ONLY = json(405, { reason: 'method not allowed' }, { Allow: 'POST' });
const METHOD_GET_ONLY = json(405, { reason: 'method not allowed' }, { Allow: 'GET, HEAD' });
const PROBE_OK = json(200, { status: 'ok' });

/** The response headers of a 200 for a grant, as the flat [name, value, …] list writeHead takes. */
export function grantHeaders(grant: TokenGrant): string[] {
  return [
    Header.domain,
    grant.domain,
    Header.domainRef,
    grant.ref,
    Header.sendInvitations,
    String(grant.sendEmailInvitations),
    Header.identityProvider,
    grant.identityProvider,
    Header.tokenId,
    grant.tokenId,
    ...(grant.expiresAt !== undefined ? [Header.tokenExpires, grant.expiresAt] : []),
    'Cache-Control',
    'no-store',
    'Content-Length',
    '0',
  ];
}

/**
 * The lowercase hex SHA-256 of a token: the same digest as `tokenSha256` (domain/token.ts), which
 * status records, but with the one-shot `crypto.hash` (Node ≥ 20.12), which skips building a Hash
 * object — about a microsecond less on every request. handler.test.ts holds the two together.
 */
export function sha256Hex(token: string): string {
  return hash('sha256', token, 'hex');
}

export function createVerifierHandler(deps: HandlerDeps): RequestListener {
  const clock = deps.clock ?? (() => performance.now());
  const isServing = deps.isServing ?? deps.isReady;
  // Grants are immutable and replaced on every index update, so a grant's headers never go stale.
  const headerCache = new WeakMap<TokenGrant, string[]>();

  const lookup = (credential: Credential): Lookup | 'missing' | 'malformed' => {
    if (credential.kind !== 'token') return credential.kind;
    return deps.index.lookup(sha256Hex(credential.token));
  };

  const record = (result: VerifyResult, startedAt: number): void => {
    deps.metrics.recordVerifyRequest(result, (clock() - startedAt) / 1000);
  };

  const verify = (req: IncomingMessage, res: ServerResponse, startedAt: number): void => {
    if (!isServing()) {
      send(res, NOT_READY);
      record('error', startedAt);
      return;
    }
    const outcome = lookup(credentialFromRawHeaders(req.rawHeaders));
    if (typeof outcome === 'string') {
      send(res, REJECTIONS[outcome]);
      record(outcome, startedAt);
      return;
    }
    let headers = headerCache.get(outcome);
    if (headers === undefined) {
      headers = grantHeaders(outcome);
      headerCache.set(outcome, headers);
    }
    res.writeHead(200, headers);
    res.end();
    record('valid', startedAt);
  };

  const review = (req: IncomingMessage, res: ServerResponse, startedAt: number): void => {
    if (req.method !== 'POST') {
      send(res, METHOD_POST_ONLY);
      return;
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_REVIEW_BODY_BYTES) {
      tooLarge(req, res);
      record('malformed', startedAt);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > MAX_REVIEW_BODY_BYTES) {
        done = true;
        tooLarge(req, res);
        record('malformed', startedAt);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      if (!isServing()) {
        send(res, NOT_READY);
        record('error', startedAt);
        return;
      }
      const spec = reviewSpec(Buffer.concat(chunks, size));
      if (spec === 'bad-json' || spec === 'bad-shape') {
        send(res, spec === 'bad-json' ? BAD_JSON : BAD_SHAPE);
        record('malformed', startedAt);
        return;
      }
      const outcome = lookup(credentialOf(spec.token));
      const status: TokenReviewStatus =
        typeof outcome === 'string'
          ? { authenticated: false, reason: outcome }
          : {
              authenticated: true,
              domain: outcome.domain,
              domainRef: outcome.ref,
              sendEmailInvitations: outcome.sendEmailInvitations,
              identityProvider: outcome.identityProvider,
              tokenId: outcome.tokenId,
              ...(outcome.expiresAt !== undefined ? { expiresAt: outcome.expiresAt } : {}),
            };
      const body: TokenReviewResponse = { apiVersion: API_VERSION, kind: 'TokenReview', status };
      send(res, json(200, body));
      record(typeof outcome === 'string' ? outcome : 'valid', startedAt);
    });
    // A client that goes away mid-body: nothing to answer, nothing to log.
    req.on('error', () => undefined);
  };

  const probe = (req: IncomingMessage, res: ServerResponse, ok: boolean): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') send(res, METHOD_GET_ONLY);
    else send(res, ok ? PROBE_OK : NOT_READY);
  };

  const fail = (req: IncomingMessage, res: ServerResponse, startedAt: number, err: unknown): void => {
    // The error cannot hold the token (nothing above puts it in one), but the request is not logged.
    deps.log.error({ err, path: pathOf(req.url) }, 'verifier request failed');
    if (!res.headersSent) send(res, INTERNAL_ERROR);
    else res.destroy();
    record('error', startedAt);
  };

  // Verify requests that arrive in one event-loop turn (the sockets one poll found readable) are
  // answered together in the turn's check phase, so their responses go out back to back. Answering
  // each as it is parsed spaces the writes by the parsing of the next request, and a load balancer
  // or proxy waiting on the other end is then woken for every single response: on a small VM that
  // wake-up, not the lookup, is most of a request's cost (docs/benchmarks.md). The wait this adds is
  // the parsing of the other requests of the same turn, microseconds; startedAt still counts it.
  //
  // Two batches in turn, as parallel arrays kept from turn to turn: queueing a request allocates
  // nothing, and a request that arrived while a batch is answered would go into the other one.
  let queued = new Batch();
  let spare = new Batch();
  const answerBatch = (): void => {
    const answering = queued;
    queued = spare;
    spare = answering;
    const { reqs, ress, startedAts } = answering;
    try {
      for (let i = 0; i < answering.size; i++) {
        const req = reqs[i]!;
        const res = ress[i]!;
        try {
          verify(req, res, startedAts[i]!);
        } catch (err) {
          fail(req, res, startedAts[i]!, err);
        }
      }
    } finally {
      answering.clear();
    }
  };
  const batching = deps.batch ?? true;

  return (req, res) => {
    const startedAt = clock();
    try {
      const path = pathOf(req.url);
      if (path === VERIFY_PATH || path.startsWith(`${VERIFY_PATH}/`)) {
        // Any method, and any path below /v1/verify: Envoy's ext_authz HTTP service sends the
        // client's own method and appends the client's path to its path_prefix.
        if (!batching) verify(req, res, startedAt);
        else if (queued.add(req, res, startedAt) === 1) setImmediate(answerBatch);
      } else if (path === TOKEN_REVIEWS_PATH) {
        review(req, res, startedAt);
      } else if (path === '/healthz') {
        probe(req, res, true);
      } else if (path === '/readyz') {
        probe(req, res, deps.isReady());
      } else {
        send(res, NOT_FOUND);
      }
    } catch (err) {
      fail(req, res, startedAt, err);
    }
  };
}

/** Requests waiting for the check phase: parallel arrays that keep their capacity between turns. */
class Batch {
  readonly reqs: (IncomingMessage | undefined)[] = [];
  readonly ress: (ServerResponse | undefined)[] = [];
  readonly startedAts: number[] = [];
  size = 0;

  /** Queues a request; returns the batch's size with it. */
  add(req: IncomingMessage, res: ServerResponse, startedAt: number): number {
    const i = this.size;
    this.reqs[i] = req;
    this.ress[i] = res;
    this.startedAts[i] = startedAt;
    return (this.size = i + 1);
  }

  /** Forgets the answered requests (so the batch holds no socket past its turn) and keeps the room. */
  clear(): void {
    for (let i = 0; i < this.size; i++) {
      this.reqs[i] = undefined;
      this.ress[i] = undefined;
    }
    this.size = 0;
  }
}

function send(res: ServerResponse, r: Prebuilt): void {
  // writeHead reads the list and never changes it; its typings ask for a mutable array.
  res.writeHead(r.status, r.headers as string[]);
  // `res.end(body)` corks the socket and queues two chunks, head + body and an empty one that
  // carries the finish callback, which the uncork then flushes with writev: a 401 cost a third more
  // than a 200 in the profile of the verifier under load (docs/benchmarks.md). Written and uncorked
  // here, head and body leave in one plain write, and end() finds nothing left to send (if the socket
  // could not take it all at once, end() queues its empty chunk behind the rest as before).
  res.write(r.body, 'latin1');
  res.socket?.uncork();
  res.end();
}

function tooLarge(req: IncomingMessage, res: ServerResponse): void {
  // Closing the connection stops the client from sending the rest; Node discards what is in flight.
  res.shouldKeepAlive = false;
  send(res, TOO_LARGE);
  req.resume();
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

type ReviewSpec = { token: unknown } | 'bad-json' | 'bad-shape';

function reviewSpec(body: Buffer): ReviewSpec {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return 'bad-json';
  }
  if (!isRecord(parsed) || !isRecord(parsed.spec)) return 'bad-shape';
  return { token: parsed.spec.token };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
