// The operator's requests to the API server: JSON in, JSON out, over one keep-alive agent per set of
// credentials (kube/connection.ts), and watches as streams of newline-delimited JSON events.
//
// Objects come back exactly as the API server wrote them (timestamps are RFC 3339 strings); nothing
// is converted into classes, which is most of what a list of 10,000 Secrets costs in client-node.
// A failed request throws ApiError: the status code, the response body kept aside for
// kube/errors.ts (it may hold a Secret's data, so it is never part of the message) and headers.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createInterface } from 'node:readline';
import type { KubeConnection } from './connection.js';

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly code: number,
    /** The response body as sent (a Kubernetes Status, usually). Never put into a message. */
    readonly body: string,
    readonly headers: Record<string, string | string[] | undefined>,
  ) {
    super(`HTTP ${code}`);
  }
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
}

/** One watch event as the API server sends it. */
export interface WatchEvent {
  type: string;
  object: unknown;
}

export interface WatchHandle {
  /** Ends the watch; `done` is not called for a watch ended this way. */
  abort(): void;
}

export interface KubeClientOptions {
  /** Called once per request sent, with its method ('WATCH' for a watch): the request counter. */
  onRequest?: (method: string) => void;
  userAgent?: string;
}

function urlOf(server: string, path: string, query: Query | undefined): URL {
  const url = new URL(server + path);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  return url;
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

export class KubeClient {
  constructor(
    readonly connection: KubeConnection,
    private readonly options: KubeClientOptions = {},
  ) {}

  get server(): string {
    return this.connection.server;
  }

  private async send(method: string, url: URL, body: string | undefined, countAs: string) {
    const { agent, headers } = await this.connection.auth();
    this.options.onRequest?.(countAs);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, {
      method,
      agent,
      headers: {
        ...headers,
        accept: 'application/json',
        ...(this.options.userAgent ? { 'user-agent': this.options.userAgent } : {}),
        ...(body !== undefined
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
          : {}),
      },
    });
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      // Not once: a socket that dies after the response still errors the request (watch() listens).
      req.on('error', reject);
    });
    req.end(body);
    return { req, response };
  }

  /** One request; resolves with the parsed JSON body of a 2xx, throws ApiError otherwise. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const { response } = await this.send(method, urlOf(this.server, path, opts.query), body, method);
    const res = await response;
    const text = await readAll(res);
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) throw new ApiError(status, text, res.headers);
    return (text === '' ? {} : JSON.parse(text)) as T;
  }

  /**
   * Opens a watch (`?watch=true` and `query`). `onEvent` gets each event in order; `done` is called
   * once when the stream ends: with null when the server ended it cleanly (a watch timeout), with
   * the error otherwise (an ApiError carries the status of a refused watch). Resolves once the
   * request is sent.
   */
  async watch(
    path: string,
    query: Query,
    onEvent: (event: WatchEvent) => void,
    done: (err: unknown) => void,
  ): Promise<WatchHandle> {
    let finished = false;
    let aborted = false;
    const finish = (err: unknown) => {
      if (finished) return;
      finished = true;
      if (!aborted) done(err);
    };
    const { req, response } = await this.send(
      'GET',
      urlOf(this.server, path, { ...query, watch: true }),
      undefined,
      'WATCH',
    );
    const handle: WatchHandle = {
      abort() {
        aborted = true;
        req.destroy();
      },
    };
    req.on('socket', (socket) => socket.setKeepAlive(true, 30_000));
    req.on('error', finish);
    response.then(
      async (res) => {
        if (res.statusCode !== 200) {
          const text = await readAll(res).catch(() => '');
          finish(new ApiError(res.statusCode ?? 0, text, res.headers));
          return;
        }
        res.on('error', finish);
        res.on('aborted', () => finish(new Error('watch connection aborted')));
        const lines = createInterface({ input: res, crlfDelay: Infinity });
        // readline passes its input's errors on: unheard, an aborted stream would crash the process.
        lines.on('error', finish);
        lines.on('line', (line) => {
          if (finished || line === '') return;
          let event: WatchEvent;
          try {
            event = JSON.parse(line) as WatchEvent;
          } catch {
            finish(new Error('watch stream carried a line that is not JSON'));
            req.destroy();
            return;
          }
          onEvent(event);
        });
        lines.on('close', () => finish(res.complete ? null : new Error('watch connection closed')));
      },
      (err: unknown) => finish(err),
    );
    return handle;
  }
}
