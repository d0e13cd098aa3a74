// A local stand-in for Microsoft Entra ID's token endpoint and Microsoft Graph's provisioning
// secrets API, over HTTPS with a self-signed certificate (node-forge, through the verifier's
// generator), for the delivery tests (SPEC §2.7). It speaks the documented shapes:
//
//   POST /authority/{tenant}/oauth2/v2.0/token   form client_id, client_secret, grant_type, scope
//        → 200 {token_type, expires_in, access_token} | 401 {error: "invalid_client", error_description}
//   PUT  /graph/v1.0/servicePrincipals/{id}/synchronization/secrets   Bearer <access token>, JSON
//        {value: [{key: "BaseAddress", value}, {key: "SecretToken", value}]}
//        → 204 | 401 {error: {code, message}}
//
// Every request is recorded as received; scripted answers (e.g. one 429 with Retry-After) can be
// queued per service principal. What a successful PUT stored is kept per service principal.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateSelfSigned } from '../../../src/verifier/tls.js';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Date.now() when the request arrived. */
  at: number;
}

export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface AppRegistration {
  clientId: string;
  clientSecret: string;
}

const TOKEN_PATH = /^\/authority\/([^/]+)\/oauth2\/v2\.0\/token$/;
const SECRETS_PATH = /^\/graph\/v1\.0\/servicePrincipals\/([^/]+)\/synchronization\/secrets$/;

export class FakeEntra {
  readonly requests: ReceivedRequest[] = [];
  /** Access tokens handed out (the leak check looks for them too). */
  readonly accessTokens: string[] = [];
  /** What each service principal's provisioning credentials hold after the last accepted PUT. */
  readonly stored = new Map<string, { BaseAddress?: string; SecretToken?: string }>();
  /** Answers to give the next PUTs for a service principal, before any normal handling. */
  readonly scriptedPuts = new Map<string, ScriptedAnswer[]>();
  private readonly apps: AppRegistration[] = [];

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
    /** PEM file of the server's self-signed certificate, for --extra-ca-file. */
    readonly caFile: string,
  ) {}

  static async start(): Promise<FakeEntra> {
    const tls = generateSelfSigned({ now: new Date(), dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const caFile = path.join(tmpdir(), `fake-entra-${randomBytes(4).toString('hex')}.pem`);
    writeFileSync(caFile, tls.cert);
    const holder: { fake?: FakeEntra } = {};
    const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        const received = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body,
          at: Date.now(),
        };
        const answer = holder.fake!.handle(received);
        res.writeHead(answer.status, {
          ...(answer.body ? { 'content-type': 'application/json' } : {}),
          ...answer.headers,
        });
        res.end(answer.body ?? '');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    holder.fake = new FakeEntra(server, `https://127.0.0.1:${port}`, caFile);
    return holder.fake;
  }

  get authorityUrl(): string {
    return `${this.baseUrl}/authority`;
  }

  get graphUrl(): string {
    return `${this.baseUrl}/graph`;
  }

  /** An app registration whose client credentials the token endpoint accepts. */
  register(app: AppRegistration): void {
    this.apps.push(app);
  }

  tokenRequests(): ReceivedRequest[] {
    return this.requests.filter((r) => TOKEN_PATH.test(r.path));
  }

  putsFor(servicePrincipalId: string): ReceivedRequest[] {
    return this.requests.filter((r) => SECRETS_PATH.exec(r.path)?.[1] === servicePrincipalId);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(r: ReceivedRequest): ScriptedAnswer {
    this.requests.push(r);
    if (r.method === 'POST' && TOKEN_PATH.test(r.path)) return this.token(r);
    const sp = SECRETS_PATH.exec(r.path)?.[1];
    if (r.method === 'PUT' && sp) {
      const scripted = this.scriptedPuts.get(sp)?.shift();
      if (scripted) return scripted;
      return this.putSecrets(sp, r);
    }
    return graphError(404, 'Request_ResourceNotFound', `no route ${r.method} ${r.path}`);
  }

  private token(r: ReceivedRequest): ScriptedAnswer {
    const form = new URLSearchParams(r.body);
    const ok = this.apps.some(
      (a) => a.clientId === form.get('client_id') && a.clientSecret === form.get('client_secret'),
    );
    if (!ok || form.get('grant_type') !== 'client_credentials') {
      return {
        status: 401,
        body: JSON.stringify({
          error: 'invalid_client',
          error_description: `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${form.get('client_id') ?? ''}'.\r\nTrace ID: 0000\r\nCorrelation ID: 1111\r\nTimestamp: 2026-01-01 00:00:00Z`,
          error_codes: [7000215],
        }),
      };
    }
    // Shaped like a JWT, as Entra's are.
    const accessToken = `eyJ0eXAiOiJKV1QifQ.${randomBytes(24).toString('base64url')}.${randomBytes(16).toString('base64url')}`;
    this.accessTokens.push(accessToken);
    return {
      status: 200,
      body: JSON.stringify({
        token_type: 'Bearer',
        expires_in: 3599,
        ext_expires_in: 3599,
        access_token: accessToken,
      }),
    };
  }

  private putSecrets(sp: string, r: ReceivedRequest): ScriptedAnswer {
    const bearer = /^Bearer (.+)$/.exec(r.headers.authorization ?? '')?.[1];
    if (!bearer || !this.accessTokens.includes(bearer))
      return graphError(401, 'InvalidAuthenticationToken', 'Access token validation failure.');
    let parsed: { value?: { key?: string; value?: string }[] };
    try {
      parsed = JSON.parse(r.body) as typeof parsed;
    } catch {
      return graphError(400, 'BadRequest', 'Unable to read JSON request payload.');
    }
    const held: { BaseAddress?: string; SecretToken?: string } = {};
    for (const { key, value } of parsed.value ?? []) {
      if (key === 'BaseAddress' || key === 'SecretToken') held[key] = value;
    }
    this.stored.set(sp, held);
    return { status: 204 };
  }
}

function graphError(status: number, code: string, message: string): ScriptedAnswer {
  return { status, body: JSON.stringify({ error: { code, message, innerError: { 'request-id': '2222' } } }) };
}
