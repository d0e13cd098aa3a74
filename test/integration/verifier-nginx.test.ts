// A real proxy in front of a SCIM application (issue 5): nginx from the Debian package, with
// `auth_request` to the verifier's /v1/verify — what ingress-nginx's auth-url annotation generates.
// A valid token reaches the application, which learns the domain from X-Scim-Domain; a revoked,
// unknown or missing one gets nginx's 401 and never reaches it.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToken } from '../../src/rules/token.js';
import { useTestNamespace } from './support/context.js';
import { assertNoTokenLeaks } from './support/leak.js';
import { findNginx, startNginx, type Nginx } from './support/nginx.js';
import { saveOutput, startOperator, type OperatorProcess } from './support/operator.js';
import { Scim, secretValue } from './support/scim.js';
import { call, recordDelay, timeUntil, verify, verifierListening } from './support/verifier.js';

const ctx = useTestNamespace('vngx');
let scim: Scim;
let operator: OperatorProcess;
let nginx: Nginx;
let app: Server;
let verifierUrl: string;
/** Every request that reached the application. */
const received: { path: string; headers: IncomingHttpHeaders }[] = [];
const domain = () => `nginx-${ctx.runId}.example`;
let token: string;

/** A SCIM application stub: it trusts nginx and answers with what it was told about the caller. */
async function startApp(): Promise<Server> {
  const server = createServer((req, res) => {
    received.push({ path: req.url ?? '', headers: req.headers });
    const body = JSON.stringify({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: 0,
      Resources: [],
      seenDomain: req.headers['x-scim-domain'] ?? null,
    });
    res.writeHead(200, {
      'Content-Type': 'application/scim+json',
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const scimGet = (t: string | undefined, extra: Record<string, string> = {}) =>
  call(nginx.url, '/scim/v2/Users?count=10', {
    headers: { ...(t === undefined ? {} : { Authorization: `Bearer ${t}` }), ...extra },
  });

beforeAll(async () => {
  // Fails the file (it does not skip it) when nginx is missing; the message says how to install it.
  findNginx();
  scim = new Scim(ctx, ctx.namespace);
  operator = await startOperator({ kubeconfig: ctx.kubeconfig, namespaces: [ctx.namespace] });
  verifierUrl = (await verifierListening(operator)).verifier;
  app = await startApp();
  nginx = await startNginx({
    verifierUrl,
    appUrl: `http://127.0.0.1:${(app.address() as AddressInfo).port}`,
  });
  await scim.createDomain('acme', { domain: domain(), identityProvider: 'GoogleWorkspace' });
  await scim.waitForReady('acme');
  token = secretValue(await scim.getSecret('acme-scim-token'), 'token')!;
  await timeUntil(
    'the verifier to accept the token',
    async () => (await verify(verifierUrl, token)).status === 200,
  );
});

afterAll(async () => {
  const outputs = [operator?.output() ?? '', nginx?.logs() ?? ''];
  await nginx?.stop();
  await new Promise((r) => (app ? app.close(r) : r(undefined)));
  if (operator) {
    await operator.stop();
    saveOutput(ctx.runId, 'verifier-nginx', outputs.join('\n'));
  }
});

describe('nginx auth_request → /v1/verify in front of a SCIM app', () => {
  it('lets a valid token through; the app sees the domain headers and not the token', async () => {
    received.length = 0;
    const r = await scimGet(token);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ seenDomain: domain() });
    expect(received).toHaveLength(1);
    const d = await scim.getDomain('acme');
    expect(received[0]!.headers).toMatchObject({
      'x-scim-domain': domain(),
      'x-scim-domain-ref': `${ctx.namespace}/acme`,
      'x-scim-send-invitations': 'true',
      'x-scim-identity-provider': 'GoogleWorkspace',
      'x-scim-token-id': d.status!.token!.id,
    });
    expect(received[0]!.headers.authorization).toBeUndefined();
  });

  it('overwrites X-Scim-* headers a client sends itself', async () => {
    received.length = 0;
    const r = await scimGet(token, { 'X-Scim-Domain': 'evil.example', 'X-Scim-Domain-Ref': 'x/y' });
    expect(r.status).toBe(200);
    expect(received[0]!.headers['x-scim-domain']).toBe(domain());
    expect(received[0]!.headers['x-scim-domain-ref']).toBe(`${ctx.namespace}/acme`);
  });

  it.each([
    [
      'an unknown token',
      () => generateToken((n) => randomBytes(n)),
      'Bearer realm="scim", error="invalid_token"',
    ],
    ['a malformed token', () => 'sct_short', 'Bearer realm="scim", error="invalid_token"'],
    ['no token', () => undefined, 'Bearer realm="scim"'],
  ])('answers 401 for %s and the app never sees the request', async (_, make, challenge) => {
    received.length = 0;
    const r = await scimGet(make(), { 'X-Scim-Domain': domain() });
    expect(r.status).toBe(401);
    // nginx passes the verifier's challenge on to the client.
    expect(r.headers['www-authenticate']).toBe(challenge);
    expect(received).toHaveLength(0);
  });

  it('answers 401 once the token is revoked (domain suspended), without the app seeing it', async () => {
    const since = Date.now();
    await scim.patchDomainSpec('acme', { suspend: true });
    const ms = await timeUntil(
      'nginx to refuse the suspended token',
      async () => (await scimGet(token)).status === 401,
      since,
    );
    recordDelay(ctx.runId, 'suspend → nginx refuses the token', ms);
    received.length = 0;
    expect((await scimGet(token)).status).toBe(401);
    expect((await verify(verifierUrl, token)).reason).toBe('revoked');
    expect(received).toHaveLength(0);
  });
});

describe('secrecy', () => {
  it('never printed a token: operator output, nginx logs, Events and objects are clean', async () => {
    await assertNoTokenLeaks(ctx, [ctx.namespace], [operator.output(), nginx.logs()]);
  });
});
