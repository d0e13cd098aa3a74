// Test-side helpers for the Helm chart: the pinned helm binary (test/helm), kubectl matching the
// control plane, rendering the chart into objects, and a kubeconfig that authenticates as a
// ServiceAccount with a token minted through the TokenRequest API.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadAllYaml, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { ROOT } from './kube.js';

export const CHART_DIR = path.join(ROOT, 'charts/scim-token-operator');

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function run(
  command: string,
  args: readonly string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): RunResult {
  const r = spawnSync(command, args, {
    cwd: ROOT,
    input: opts.input,
    env: opts.env ?? process.env,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

export function runOk(
  command: string,
  args: readonly string[],
  opts: Parameters<typeof run>[2] = {},
): string {
  const r = run(command, args, opts);
  if (r.status !== 0) {
    throw new Error(
      `${path.basename(command)} ${args.join(' ')} exited ${r.status}:\n${r.stderr}${r.stdout}`,
    );
  }
  return r.stdout;
}

let helmPath: string | undefined;

/**
 * The helm binary pinned by test/helm/go.mod, built on first use (a few minutes) and cached outside
 * the repository. Several test files may ask at once: flock serialises the build.
 */
export function helmBinary(): string {
  if (helmPath) return helmPath;
  const lock = path.join(os.tmpdir(), 'scim-token-operator-helm-build.lock');
  const out = runOk('flock', [lock, 'bash', path.join(ROOT, 'test/helm/build.sh')], {
    timeoutMs: 20 * 60_000,
  });
  const last = out.trim().split('\n').pop();
  if (!last) throw new Error('test/helm/build.sh printed no path');
  helmPath = last;
  return helmPath;
}

let kubectlPath: string | undefined;

/** kubectl of the local control plane (matching its version), else $KUBECTL, else the one on PATH. */
export function kubectlBinary(): string {
  if (kubectlPath) return kubectlPath;
  if (process.env.KUBECTL) return (kubectlPath = process.env.KUBECTL);
  const env = run('bash', [path.join(ROOT, 'test/controlplane/cluster.sh'), 'env']);
  const dir = /^export PATH=(.*):\$PATH$/m.exec(env.stdout)?.[1];
  kubectlPath =
    env.status === 0 && dir && !process.env.SCIM_TEST_KUBECONFIG ? path.join(dir, 'kubectl') : 'kubectl';
  return kubectlPath;
}

export function kubectl(kubeconfig: string, args: readonly string[], input?: string): RunResult {
  return run(kubectlBinary(), ['--kubeconfig', kubeconfig, ...args], input === undefined ? {} : { input });
}

export interface RenderOptions {
  release: string;
  namespace: string;
  /** --set values (key=value). */
  set?: readonly string[];
  /** --set-json values (key=json). */
  setJson?: readonly string[];
  showOnly?: readonly string[];
  /** --api-versions: APIs the rendering may assume the cluster serves (e.g. monitoring.coreos.com/v1/ServiceMonitor). */
  apiVersions?: readonly string[];
  /** Render with the capabilities of the API server of this kubeconfig (--dry-run=server). */
  kubeconfig?: string;
}

export function helmTemplateArgs(opts: RenderOptions): string[] {
  return [
    'template',
    opts.release,
    CHART_DIR,
    '--namespace',
    opts.namespace,
    ...(opts.apiVersions ?? []).flatMap((a) => ['--api-versions', a]),
    ...(opts.kubeconfig ? ['--dry-run=server', '--kubeconfig', opts.kubeconfig] : []),
    ...(opts.set ?? []).flatMap((s) => ['--set', s]),
    ...(opts.setJson ?? []).flatMap((s) => ['--set-json', s]),
    ...(opts.showOnly ?? []).flatMap((s) => ['--show-only', s]),
  ];
}

/** `helm template` output as text. */
export function renderText(opts: RenderOptions): string {
  return runOk(helmBinary(), helmTemplateArgs(opts));
}

export type Obj = KubernetesObject & Record<string, unknown>;

/** `helm template` output as objects. */
export function render(opts: RenderOptions): Obj[] {
  return (loadAllYaml(renderText(opts)) as (Obj | null)[]).filter((o): o is Obj => o !== null);
}

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs: string[];
  nonResourceURLs?: string[];
}

export function rulesOf(o: Obj): PolicyRule[] {
  return (o.rules as PolicyRule[] | undefined) ?? [];
}

export function ofKind(objects: readonly Obj[], kind: string): Obj[] {
  return objects.filter((o) => o.kind === kind);
}

/**
 * A kubeconfig for the same API server that authenticates with a bearer token only (no client
 * certificate): what a pod running as the ServiceAccount would have.
 */
export function writeTokenKubeconfig(admin: KubeConfig, token: string, file: string): string {
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('the admin kubeconfig has no current cluster');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'test',
        cluster: {
          server: cluster.server,
          ...(cluster.caData ? { 'certificate-authority-data': cluster.caData } : {}),
          ...(cluster.caFile ? { 'certificate-authority': cluster.caFile } : {}),
          ...(cluster.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}),
        },
      },
    ],
    users: [{ name: 'sa', user: { token } }],
    contexts: [{ name: 'sa', context: { cluster: 'test', user: 'sa' } }],
    'current-context': 'sa',
  };
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 });
  return file;
}

/**
 * `kubectl auth can-i --list` as comparable text: header dropped, columns separated by one space,
 * lines sorted. Each line reads `<resource> [<non-resource URLs>] [<resource names>] [<verbs>]`.
 */
export function normalizeCanIList(output: string): string[] {
  return output
    .split('\n')
    .slice(1)
    .map((l) => l.trim().replace(/\s+/g, ' '))
    .filter((l) => l !== '')
    .sort();
}
