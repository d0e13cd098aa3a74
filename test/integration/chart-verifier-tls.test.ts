// The verifier's TLS identity from the chart (SPEC §4): installed with `helm install` on the real API
// server, the chart generates a CA, publishes it in a ConfigMap and signs the serving certificate for
// the verifier Service's DNS names. There is no kubelet here, so the verifier runs out of cluster
// with the rendered Secret's certificate, and curl reaches it by the Service's DNS name (--resolve)
// trusting only the published CA. An upgrade keeps the CA (read back with `lookup`), so a proxy
// configured with it keeps working.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CHART_DIR, helmBinary, run, runOk } from './support/chart.js';
import { useTestNamespace } from './support/context.js';
import { RUN_LABEL } from './support/kube.js';
import { saveOutput, startOperator, type OperatorProcess } from './support/operator.js';
import { verifierListening } from './support/verifier.js';

const ctx = useTestNamespace('vtls');
const RELEASE = 'tls';
const VERIFIER = `${RELEASE}-scim-token-operator-verifier`;
let tmp: string;
let verifier: OperatorProcess | undefined;

function helm(args: string[]): string {
  return runOk(helmBinary(), [...args, '--kubeconfig', ctx.kubeconfig, '--namespace', ctx.namespace], {
    timeoutMs: 5 * 60_000,
  });
}

function install(): void {
  helm([
    'upgrade',
    '--install',
    RELEASE,
    CHART_DIR,
    '--skip-crds',
    // Cluster-scoped objects with fixed names belong to no test file; this one is about TLS. (The
    // CRDs are templates now: crds.enabled=false leaves the ones the suite installed alone.)
    '--set',
    'crds.enabled=false',
    '--set',
    'userRoles.create=false',
    '--set',
    'admissionPolicy.create=false',
    '--set',
    'rbac.create=false',
    '--set',
    `commonLabels.${RUN_LABEL.replace(/\./g, '\\.')}=${ctx.runId}`,
  ]);
}

async function tlsMaterial(): Promise<{ ca: string; cert: string; key: string }> {
  const cm = await ctx.core.readNamespacedConfigMap({ name: `${VERIFIER}-ca`, namespace: ctx.namespace });
  const secret = await ctx.core.readNamespacedSecret({ name: `${VERIFIER}-tls`, namespace: ctx.namespace });
  const b64 = (k: string) => Buffer.from(secret.data?.[k] ?? '', 'base64').toString('utf8');
  return { ca: cm.data?.['ca.crt'] ?? '', cert: b64('tls.crt'), key: b64('tls.key') };
}

function curl(host: string, port: number, caFile: string | undefined): { status: number; out: string } {
  const r = run('curl', [
    '-sS',
    '--max-time',
    '10',
    ...(caFile ? ['--cacert', caFile] : []),
    '--resolve',
    `${host}:${port}:127.0.0.1`,
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    `https://${host}:${port}/v1/verify`,
  ]);
  return { status: r.status, out: r.stdout + r.stderr };
}

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'scim-vtls-'));
  install();
}, 20 * 60_000);

afterAll(async () => {
  if (verifier) {
    await verifier.stop();
    saveOutput(ctx.runId, 'chart-verifier-tls', verifier.output());
  }
  run(helmBinary(), ['uninstall', RELEASE, '--kubeconfig', ctx.kubeconfig, '--namespace', ctx.namespace]);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

it('serves the chart-issued certificate, which curl verifies with the published CA by the Service DNS name', async () => {
  const { ca, cert, key } = await tlsMaterial();
  expect(ca).toMatch(/^-----BEGIN CERTIFICATE-----/);
  const files = {
    ca: path.join(tmp, 'ca.crt'),
    cert: path.join(tmp, 'tls.crt'),
    key: path.join(tmp, 'tls.key'),
  };
  writeFileSync(files.ca, ca);
  writeFileSync(files.cert, cert);
  writeFileSync(files.key, key, { mode: 0o600 });
  verifier = await startOperator({
    kubeconfig: ctx.kubeconfig,
    namespaces: [ctx.namespace],
    command: 'verifier',
    insecure: false,
    args: ['--verify-tls-cert', files.cert, '--verify-tls-key', files.key],
  });
  const port = Number(new URL((await verifierListening(verifier)).verifier).port);

  for (const host of [`${VERIFIER}.${ctx.namespace}.svc`, `${VERIFIER}.${ctx.namespace}.svc.cluster.local`]) {
    const r = curl(host, port, files.ca);
    expect(r.status, r.out).toBe(0);
    // No token: the check itself answers, over a connection curl has verified.
    expect(r.out).toBe('401');
  }
  // Another name, or no CA: curl refuses the certificate (exit 60) and never gets an answer.
  expect(curl('verifier.elsewhere.example', port, files.ca).status).toBe(60);
  expect(curl(`${VERIFIER}.${ctx.namespace}.svc`, port, undefined).status).toBe(60);
});

it('keeps the CA across an upgrade and signs the re-issued certificate with it', async () => {
  const before = await tlsMaterial();
  install();
  const after = await tlsMaterial();
  expect(after.ca).toBe(before.ca);
  const caFile = path.join(tmp, 'ca-upgrade.crt');
  const certFile = path.join(tmp, 'tls-upgrade.crt');
  writeFileSync(caFile, after.ca);
  writeFileSync(certFile, after.cert);
  const r = run('openssl', ['verify', '-CAfile', caFile, certFile]);
  expect(r.status, r.stdout + r.stderr).toBe(0);
});
