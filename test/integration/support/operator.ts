// Runs the real operator (src/main.ts through tsx) as a child process against the test cluster,
// scoped to the test file's namespaces, and keeps everything it prints for the leak check.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, waitFor } from './kube.js';

export interface OperatorProcess {
  child: ChildProcess;
  /** Every line written to stdout and stderr so far. */
  output(): string;
  metricsUrl: string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

export interface OperatorOptions {
  kubeconfig: string;
  namespaces: string[];
  /** `controller` or `verifier`; default both in one process. */
  command?: 'controller' | 'verifier';
  /** Serve the verifier over plain HTTP (default true); false: pass TLS flags in `args`. */
  insecure?: boolean;
  args?: string[];
  env?: Record<string, string>;
  /** Wait for /readyz (default true). */
  waitReady?: boolean;
}

const TSX = path.join(ROOT, 'node_modules/tsx/dist/esm/index.mjs');

/**
 * One token-seal key for every operator this checkout's tests start (as the chart gives every replica
 * one): a write interrupted by a SIGKILL is then adopted by the next process, not issued again.
 * Created once, atomically (link fails if another test worker made it first), so no process ever
 * reads a half-written or replaced key.
 */
export function testSealKeyFile(): string {
  const dir = path.join(ROOT, '.test-output');
  const file = path.join(dir, 'token-seal.key');
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, randomBytes(32), { mode: 0o600 });
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  return file;
}

/**
 * The flags of an operator run out of cluster against a local control plane: the given kubeconfig
 * and namespaces, metrics and verifier on free loopback ports (logged at start), plain HTTP unless
 * told otherwise, no drain period on SIGTERM (nothing routes to these processes).
 */
export function localOperatorFlags(
  kubeconfig: string,
  namespaces: readonly string[],
  logLevel: 'debug' | 'info',
  { insecure = true }: { insecure?: boolean } = {},
): string[] {
  return [
    '--drain-period',
    '0s',
    '--kubeconfig',
    kubeconfig,
    ...namespaces.flatMap((ns) => ['--namespace', ns]),
    '--metrics-addr',
    '127.0.0.1:0',
    '--verify-addr',
    '127.0.0.1:0',
    ...(insecure ? ['--verify-insecure'] : []),
    '--log-level',
    logLevel,
    '--token-seal-key-file',
    testSealKeyFile(),
  ];
}

export async function startOperator(opts: OperatorOptions): Promise<OperatorProcess> {
  const args = [
    '--import',
    TSX,
    path.join(ROOT, 'src/main.ts'),
    ...(opts.command ? [opts.command] : []),
    ...localOperatorFlags(opts.kubeconfig, opts.namespaces, 'debug', { insecure: opts.insecure ?? true }),
    ...(opts.args ?? []),
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));

  const metricsUrl = await waitFor(
    'the operator to log its metrics address',
    () => {
      if (exitCode !== undefined) throw new Error(`operator exited with ${exitCode}:\n${out.slice(-3000)}`);
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        const rec = JSON.parse(line) as { metrics?: { host: string; port: number } };
        if (rec.metrics?.port) return `http://127.0.0.1:${rec.metrics.port}`;
      }
      return undefined;
    },
    { timeoutMs: 30_000 },
  );
  const proc: OperatorProcess = {
    child,
    output: () => out,
    metricsUrl,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (exitCode === undefined) child.kill(signal);
      return exited;
    },
  };
  if (opts.waitReady !== false) {
    await waitFor('the operator to become ready', async () => {
      if (exitCode !== undefined) throw new Error(`operator exited with ${exitCode}:\n${out.slice(-3000)}`);
      const res = await fetch(`${metricsUrl}/readyz`).catch(() => undefined);
      return res?.ok ? true : undefined;
    });
  }
  return proc;
}

/** Keeps an operator's output under .cluster/test-output/<run>/ for a human to read after a failure. */
export function saveOutput(runId: string, name: string, output: string): void {
  const dir = path.join(ROOT, '.test-output', runId);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.log`), output);
}

/** The sum of every series of metric `name` on the operator's /metrics (0 when it has none). */
export async function metricTotal(p: OperatorProcess, name: string): Promise<number> {
  const text = await (await fetch(`${p.metricsUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}
