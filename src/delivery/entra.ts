// Microsoft Entra ID delivery (SPEC §2.7): writes `BaseAddress` and `SecretToken` to an enterprise
// application's provisioning credentials with Microsoft Graph
// (`PUT /v1.0/servicePrincipals/{id}/synchronization/secrets`), authenticated by an app
// registration's client credentials (OAuth 2.0 client-credentials grant at the cloud's authority).
//
// Owns: the endpoints of the three clouds and their overrides (--entra-authority-url, --graph-url),
// the trust store (system CAs plus --extra-ca-file), the access-token cache (one per tenant, client
// and secret, kept until shortly before it expires), retries (429 and 5xx, honouring Retry-After,
// else exponential backoff with jitter) and turning every failure into a short, readable message.
//
// Never in a message or log line: the SCIM token, the client secret or the access token. Text that
// comes back from the authority or Graph is redacted of all three (and of anything token-shaped)
// and cut short before it goes anywhere.
import { createHash } from 'node:crypto';
import { Agent, request, type RequestOptions } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { rootCertificates } from 'node:tls';
import type { Logger } from 'pino';
import type { EntraCloud } from '../api/types.js';
import type { DeliveryOutcome } from '../rules/delivery/plan.js';
import { redactTokens } from '../observability/logger.js';
import { isRetryableStatus, parseRetryAfter, retryDelayMs } from './retry.js';

/** Authority (login) and Microsoft Graph base URLs of each cloud. */
export const ENTRA_CLOUDS: Readonly<Record<EntraCloud, { authority: string; graph: string }>> = {
  Global: { authority: 'https://login.microsoftonline.com', graph: 'https://graph.microsoft.com' },
  USGovernment: { authority: 'https://login.microsoftonline.us', graph: 'https://graph.microsoft.us' },
  China: { authority: 'https://login.chinacloudapi.cn', graph: 'https://microsoftgraph.chinacloudapi.cn' },
};

export interface EntraDelivery {
  cloud: EntraCloud;
  tenantId: string;
  servicePrincipalId: string;
  clientId: string;
  clientSecret: string;
  /** `BaseAddress`: the application's SCIM base URL (Entra's "Tenant URL"). */
  baseAddress: string;
  /** `SecretToken`: the SCIM bearer token. */
  token: string;
}

export interface EntraClientOptions {
  /** Replaces every cloud's authority (national clouds, tests). */
  authorityUrl?: string | undefined;
  /** Replaces every cloud's Graph base URL. */
  graphUrl?: string | undefined;
  /** PEM certificates trusted in addition to the system CAs. */
  extraCa?: string | undefined;
  log: Logger;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Attempts per request, the first included (default 5). */
  maxAttempts?: number;
  /** A Retry-After longer than this ends the attempt; the controller comes back then (default 60 s). */
  maxInlineWaitMs?: number;
  /** Per request (default 30 s). */
  timeoutMs?: number;
  /** Exponential backoff without Retry-After (default 500 ms doubling up to 30 s). */
  backoff?: { baseMs: number; maxMs: number };
}

/** Delivers tokens; an interface so that the controller can run without it. */
export interface Deliverer {
  deliverEntra(d: EntraDelivery): Promise<DeliveryOutcome>;
}

interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A request that failed for good (or whose server asked for a long wait): the attempt's outcome. */
class Failed extends Error {
  constructor(readonly outcome: Extract<DeliveryOutcome, { ok: false }>) {
    super(outcome.message);
  }
}

/** What a refusing server's body may show in a condition: this many characters at most. */
const SERVER_TEXT_MAX = 240;
/** Access tokens are renewed this long before they expire (never reused in their last minutes). */
const TOKEN_EXPIRY_MARGIN_MS = 5 * 60_000;
const RESPONSE_BODY_MAX = 64 * 1024;
// A JWT (an access token) or a long run of token-ish characters, should a server quote one back.
const JWT = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g;

export class EntraClient implements Deliverer {
  private readonly agent: Agent;
  private readonly tokens = new Map<string, { accessToken: string; renewAtMs: number }>();
  private readonly now: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly maxAttempts: number;
  private readonly maxInlineWaitMs: number;
  private readonly timeoutMs: number;
  private readonly backoff: { baseMs: number; maxMs: number };

  constructor(private readonly options: EntraClientOptions) {
    this.agent = new Agent({
      keepAlive: true,
      ...(options.extraCa !== undefined ? { ca: [...rootCertificates, options.extraCa] } : {}),
    });
    this.now = options.now ?? (() => new Date());
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.maxInlineWaitMs = options.maxInlineWaitMs ?? 60_000;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.backoff = options.backoff ?? { baseMs: 500, maxMs: 30_000 };
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  endpoints(cloud: EntraCloud): { authority: string; graph: string } {
    const base = ENTRA_CLOUDS[cloud];
    return {
      authority: trimSlash(this.options.authorityUrl ?? base.authority),
      graph: trimSlash(this.options.graphUrl ?? base.graph),
    };
  }

  async deliverEntra(d: EntraDelivery): Promise<DeliveryOutcome> {
    const secrets = [d.token, d.clientSecret];
    try {
      const { authority, graph } = this.endpoints(d.cloud);
      const url = new URL(
        `${graph}/v1.0/servicePrincipals/${encodeURIComponent(d.servicePrincipalId)}/synchronization/secrets`,
      );
      const body = JSON.stringify({
        value: [
          { key: 'BaseAddress', value: d.baseAddress },
          { key: 'SecretToken', value: d.token },
        ],
      });
      const what = `writing the provisioning credentials of service principal ${d.servicePrincipalId}`;
      for (let fresh = false; ; fresh = true) {
        const { accessToken, cached } = await this.accessToken(authority, graph, d, fresh);
        secrets.push(accessToken);
        const res = await this.withRetries(what, url, secrets, () =>
          this.send(
            url,
            'PUT',
            { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
            body,
          ),
        );
        if (res.status >= 200 && res.status < 300) return { ok: true };
        // A cached access token the server no longer accepts (revoked, consent withdrawn): once more
        // with a new one; a new one refused is an answer.
        if (res.status === 401 && cached && !fresh) {
          this.tokens.delete(cacheKey(authority, d));
          continue;
        }
        throw new Failed({ ok: false, message: graphRefusal(res, d, url, secrets) });
      }
    } catch (err) {
      if (err instanceof Failed) return err.outcome;
      return { ok: false, message: clean(`delivery failed: ${errorMessage(err)}`, secrets) };
    }
  }

  private async accessToken(
    authority: string,
    graph: string,
    d: EntraDelivery,
    refresh: boolean,
  ): Promise<{ accessToken: string; cached: boolean }> {
    const key = cacheKey(authority, d);
    const hit = this.tokens.get(key);
    if (hit && !refresh && this.now().getTime() < hit.renewAtMs)
      return { accessToken: hit.accessToken, cached: true };
    const url = new URL(`${authority}/${encodeURIComponent(d.tenantId)}/oauth2/v2.0/token`);
    const form = new URLSearchParams({
      client_id: d.clientId,
      client_secret: d.clientSecret,
      grant_type: 'client_credentials',
      scope: `${graph}/.default`,
    }).toString();
    const secrets = [d.token, d.clientSecret];
    const res = await this.withRetries('getting an access token', url, secrets, () =>
      this.send(url, 'POST', { 'content-type': 'application/x-www-form-urlencoded' }, form),
    );
    if (res.status !== 200) {
      const refused = res.status === 400 || res.status === 401;
      throw new Failed({
        ok: false,
        message: clean(
          `${refused ? "Entra ID refused the app registration's client credentials" : 'Entra ID gave no access token'} (POST ${url.origin}${url.pathname}: HTTP ${res.status}${serverText(res)}); check delivery.entraID.tenantId and the clientId/clientSecret in the credentials Secret`,
          secrets,
        ),
      });
    }
    let parsed: { access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(res.body) as typeof parsed;
    } catch {
      parsed = {};
    }
    if (typeof parsed.access_token !== 'string' || parsed.access_token === '')
      throw new Failed({
        ok: false,
        message: `the token endpoint ${url.origin}${url.pathname} answered 200 without an access_token`,
      });
    const expiresInS = Number(parsed.expires_in);
    const lifetimeMs = Number.isFinite(expiresInS) && expiresInS > 0 ? expiresInS * 1000 : 0;
    // Kept until 5 minutes before it expires, or half its life if it is shorter than 10 minutes.
    const renewAtMs =
      this.now().getTime() + Math.max(0, lifetimeMs - Math.min(TOKEN_EXPIRY_MARGIN_MS, lifetimeMs / 2));
    this.tokens.set(key, { accessToken: parsed.access_token, renewAtMs });
    return { accessToken: parsed.access_token, cached: false };
  }

  /** Sends until an answer that is not worth retrying, or the attempts run out. */
  private async withRetries(
    what: string,
    url: URL,
    secrets: readonly string[],
    send: () => Promise<HttpResponse>,
  ): Promise<HttpResponse> {
    for (let attempt = 1; ; attempt++) {
      let res: HttpResponse | undefined;
      let problem: string;
      try {
        res = await send();
        if (!isRetryableStatus(res.status)) return res;
        problem = `HTTP ${res.status}${serverText(res)}`;
      } catch (err) {
        problem = errorMessage(err);
      }
      const retryAfterMs = res
        ? parseRetryAfter(headerValue(res.headers['retry-after']), this.now())
        : undefined;
      const failed = (retryAfter?: number) =>
        new Failed({
          ok: false,
          message: clean(
            `${what} at ${url.host} failed ${attempt === 1 ? 'once' : `${attempt} times`}: ${problem}`,
            secrets,
          ),
          ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
        });
      if (attempt >= this.maxAttempts) throw failed(retryAfterMs);
      if (retryAfterMs !== undefined && retryAfterMs > this.maxInlineWaitMs) throw failed(retryAfterMs);
      const delayMs = retryDelayMs(attempt, retryAfterMs, this.random(), this.backoff);
      this.options.log.debug(
        { host: url.host, attempt, status: res?.status, retryInMs: delayMs, error: clean(problem, secrets) },
        `${what}: retrying`,
      );
      await this.sleep(delayMs);
    }
  }

  private send(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: string,
  ): Promise<HttpResponse> {
    const options: RequestOptions = {
      method,
      agent: this.agent,
      headers: { ...headers, accept: 'application/json', 'content-length': Buffer.byteLength(body) },
    };
    return new Promise((resolve, reject) => {
      const req = request(url, options, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (text.length < RESPONSE_BODY_MAX) text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        res.on('error', reject);
      });
      req.setTimeout(this.timeoutMs, () =>
        req.destroy(new Error(`no answer from ${url.host} within ${this.timeoutMs / 1000}s`)),
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function cacheKey(authority: string, d: EntraDelivery): string {
  const secret = createHash('sha256').update(d.clientSecret).digest('hex');
  return `${authority}|${d.tenantId}|${d.clientId}|${secret}`;
}

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/**
 * What a server said, as `: code: description`: the OAuth error (`error`, `error_description`),
 * Graph's (`error.code`, `error.message`), or the start of a plain-text body. First line only (Entra
 * appends trace and correlation IDs on further lines).
 */
function serverText(res: HttpResponse): string {
  let text = '';
  try {
    const j = JSON.parse(res.body) as {
      error?: string | { code?: string; message?: string };
      error_description?: string;
    };
    if (typeof j.error === 'string') text = [j.error, j.error_description].filter(Boolean).join(': ');
    else if (j.error && typeof j.error === 'object')
      text = [j.error.code, j.error.message].filter(Boolean).join(': ');
  } catch {
    text = res.body;
  }
  text = (text.split(/\r?\n/)[0] ?? '').trim();
  if (text.length > SERVER_TEXT_MAX) text = `${text.slice(0, SERVER_TEXT_MAX)}…`;
  return text ? `: ${text}` : '';
}

function graphRefusal(res: HttpResponse, d: EntraDelivery, url: URL, secrets: readonly string[]): string {
  const base = `Microsoft Graph at ${url.host} refused to write the provisioning credentials of service principal ${d.servicePrincipalId} (HTTP ${res.status}${serverText(res)})`;
  const hint =
    res.status === 401 || res.status === 403
      ? '; the app registration needs the Microsoft Graph application permission Synchronization.ReadWrite.All, admin-consented (see docs/delivery.md)'
      : res.status === 404
        ? '; check delivery.entraID.servicePrincipalId (the object ID of the enterprise application, not its application ID)'
        : '';
  return clean(base + hint, secrets);
}

/** A message safe for a condition, an Event and a log line: no secret, nothing token-shaped. */
export function clean(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('[REDACTED]');
  out = redactTokens(out).replace(JWT, '[REDACTED]');
  return out.length > 1024 ? `${out.slice(0, 1024)}…` : out;
}
