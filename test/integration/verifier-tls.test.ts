// The verifier's transport and start-up in the real operator process (SPEC §4, §5): TLS with a
// certificate given in files (made here with openssl, signed by a test CA), TLS with the self-signed
// certificate made at start, and not answering before the initial list is indexed.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestNamespace } from './support/context.js';
import { assertNoTokenLeaks } from './support/leak.js';
import { saveOutput, startOperator, type OperatorProcess } from './support/operator.js';
import { Scim, secretValue } from './support/scim.js';
import { startApiServerProxy, type ApiServerProxy } from '../support/tcp-proxy.js';
import { call, timeUntil, verify, verifierListening } from './support/verifier.js';

const ctx = useTestNamespace('vtls');
const dir = mkdtempSync(path.join(tmpdir(), 'verifier-tls-'));
const outputs: string[] = [];
let scim: Scim;
let token: string;
let domainName: string;

/** Runs an operator for the duration of one describe block and keeps its output for the leak check. */
function useOperator(
  name: string,
  args: () => string[],
  opts: { waitReady?: boolean; kubeconfig?: () => string } = {},
) {
  const holder: { op?: OperatorProcess } = {};
  beforeAll(async () => {
    holder.op = await startOperator({
      kubeconfig: opts.kubeconfig?.() ?? ctx.kubeconfig,
      namespaces: [ctx.namespace],
      args: args(),
      ...(opts.waitReady === false ? { waitReady: false } : {}),
    });
  });
  afterAll(async () => {
    if (!holder.op) return;
    await holder.op.stop();
    outputs.push(holder.op.output());
    saveOutput(ctx.runId, `verifier-tls-${name}`, holder.op.output());
  });
  return holder;
}

/** The certificate a TLS server presents, fetched without trusting it. */
function peerCertificate(url: string): Promise<PeerCertificate> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate());
      socket.end();
    });
    socket.on('error', reject);
  });
}

const pem = (raw: Buffer) => new X509Certificate(raw).toString();

beforeAll(() => {
  scim = new Scim(ctx, ctx.namespace);
  // A test CA and a server certificate for 127.0.0.1/localhost signed by it, as cert-manager would
  // mount them.
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '1',
    '-subj',
    '/CN=verifier test CA',
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'tls.key',
    '-out',
    'tls.csr',
    '-subj',
    '/CN=verifier',
  );
  writeFileSync(
    path.join(dir, 'san.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
  );
  openssl(
    'x509',
    '-req',
    '-in',
    'tls.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'tls.crt',
    '-days',
    '1',
    '-extfile',
    'san.ext',
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('with --verify-tls-cert/--verify-tls-key', () => {
  const holder = useOperator('files', () => [
    '--verify-insecure',
    'false',
    '--verify-tls-cert',
    path.join(dir, 'tls.crt'),
    '--verify-tls-key',
    path.join(dir, 'tls.key'),
  ]);

  it('serves the given certificate and verifies a token for a client that trusts the CA', async () => {
    const listening = await verifierListening(holder.op!);
    expect(listening.tls).toBe('files');
    expect(listening.verifier).toMatch(/^https:\/\//);
    const leaf = new X509Certificate(readFileSync(path.join(dir, 'tls.crt')));
    expect(listening.certSha256).toBe(leaf.fingerprint256);
    expect((await peerCertificate(listening.verifier)).fingerprint256).toBe(leaf.fingerprint256);

    domainName = `tls-${ctx.runId}.example`;
    await scim.createDomain('tls', { domain: domainName });
    await scim.waitForReady('tls');
    token = secretValue(await scim.getSecret('tls-scim-token'), 'token')!;
    const ca = readFileSync(path.join(dir, 'ca.crt'), 'utf8');
    await timeUntil(
      'the token to be accepted over TLS',
      async () => (await verify(listening.verifier, token, { ca })).status === 200,
    );
    expect((await verify(listening.verifier, token, { ca })).headers['x-scim-domain']).toBe(domainName);
  });

  it('does not speak plain HTTP on the TLS port', async () => {
    const { verifier } = await verifierListening(holder.op!);
    await expect(verify(verifier.replace('https:', 'http:'), token)).rejects.toThrow();
  });
});

describe('without a certificate: self-signed at start', () => {
  const holder = useOperator('self-signed', () => ['--verify-insecure', 'false']);

  it('serves a fresh self-signed certificate for localhost and 127.0.0.1 and logs its fingerprint', async () => {
    const listening = await verifierListening(holder.op!);
    expect(listening.tls).toBe('self-signed');
    const peer = await peerCertificate(listening.verifier);
    expect(peer.fingerprint256).toBe(listening.certSha256);
    const cert = new X509Certificate(peer.raw);
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(new Date(cert.validTo).getTime() - Date.now()).toBeLessThanOrEqual(7 * 24 * 3_600_000);
  });

  it('verifies a token for a client that pins the self-signed certificate, and is refused by one that does not', async () => {
    const { verifier } = await verifierListening(holder.op!);
    const ca = pem((await peerCertificate(verifier)).raw);
    await timeUntil(
      'the token to be accepted',
      async () => (await verify(verifier, token, { ca })).status === 200,
    );
    expect((await verify(verifier, token, { ca })).headers['x-scim-domain']).toBe(domainName);
    // Default trust store: a self-signed certificate is not trusted.
    await expect(verify(verifier, token)).rejects.toThrow(/self-signed|self signed/);
  });
});

describe('before the initial list is indexed', () => {
  let proxy: ApiServerProxy;
  let proxiedKubeconfig: string;
  beforeAll(async () => {
    // The operator reaches the API server only through this proxy, which starts refusing connections:
    // the process is up, its verifier listens, but no list has arrived.
    proxy = await startApiServerProxy(ctx.kc, `${ctx.namespace}-not-synced`);
    proxy.setDown(true);
    proxiedKubeconfig = proxy.kubeconfig;
  });
  afterAll(async () => {
    await proxy?.close();
  });
  const holder = useOperator('not-synced', () => [], {
    waitReady: false,
    kubeconfig: () => proxiedKubeconfig,
  });

  it('is not ready and answers 503 (never 401) until the API server can be listed, then verifies', async () => {
    const { verifier } = await verifierListening(holder.op!);
    // Give the informers time to try and fail a few times; nothing may become ready meanwhile.
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await call(verifier, '/readyz')).status).toBe(503);
    expect((await call(holder.op!.metricsUrl, '/readyz')).status).toBe(503);
    const early = await verify(verifier, token);
    expect([early.status, early.reason, early.headers['retry-after']]).toEqual([503, 'not ready', '1']);
    expect((await call(verifier, '/healthz')).status).toBe(200);

    proxy.setDown(false);
    await timeUntil(
      'the verifier to become ready',
      async () => (await call(verifier, '/readyz')).status === 200,
    );
    expect((await verify(verifier, token)).status).toBe(200);
  });
});

describe('secrecy', () => {
  it('never printed a token in any of the operators’ output, Events or objects', async () => {
    await assertNoTokenLeaks(ctx, [ctx.namespace], outputs);
  });
});
