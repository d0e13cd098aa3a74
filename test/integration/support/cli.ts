// Running `kubectl-scim` (src/cli/main.ts through tsx) as a child process the way a user runs it —
// with a kubeconfig file and nothing else from this process's environment — and inside a real
// pseudo-terminal (util-linux `script`) for the y/N confirmation. Every run is kept for the leak
// check: stdout of add/rotate/token legitimately holds a token, everything else must not.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { ROOT, waitFor } from './kube.js';
import { seenTokens } from './scim.js';

const TSX = path.join(ROOT, 'node_modules/tsx/dist/esm/index.mjs');
const MAIN = path.join(ROOT, 'src/cli/main.ts');
const TOKEN_SHAPE = /sct_[0-9A-Za-z]{46}/g;
/** The commands whose purpose is to print a token on stdout. */
const PRINTS_TOKEN = new Set(['add', 'rotate', 'token']);

export interface CliRun {
  args: readonly string[];
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Passed as KUBECONFIG (not --kubeconfig, which tests pass in args when they mean it). */
  kubeconfig?: string;
  /** Written to stdin, which is then closed; stdin is a pipe, never a terminal. */
  input?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

const runs: CliRun[] = [];
// An empty HOME: no ~/.kube/config of the machine running the tests can leak in.
const home = mkdtempSync(path.join(os.tmpdir(), 'kubectl-scim-home-'));

function subcommand(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (['-n', '--namespace', '--kubeconfig', '--context'].includes(a)) i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

function remember(run: CliRun): CliRun {
  runs.push(run);
  if (PRINTS_TOKEN.has(subcommand(run.args) ?? '')) {
    for (const t of run.stdout.match(TOKEN_SHAPE) ?? []) seenTokens.add(t);
  }
  return run;
}

function childEnv(opts: CliOptions): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    HOME: home,
    ...(opts.kubeconfig ? { KUBECONFIG: opts.kubeconfig } : {}),
    ...opts.env,
  };
}

/** Runs `kubectl scim <args>` with stdin a pipe. Resolves with the exit code and both streams. */
export function kubectlScim(args: readonly string[], opts: CliOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
      cwd: ROOT,
      env: childEnv(opts),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve(remember({ args, code: code ?? (signal ? 128 : 1), stdout, stderr }));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Retries a run until `accept` holds (RBAC and bindings take a moment to apply). */
export async function kubectlScimUntil(
  description: string,
  args: readonly string[],
  opts: CliOptions,
  accept: (r: CliRun) => boolean,
): Promise<CliRun> {
  let last: CliRun | undefined;
  return waitFor(
    description,
    async () => {
      last = await kubectlScim(args, opts);
      return accept(last) ? last : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  ).catch((err: unknown) => {
    throw new Error(
      `${(err as Error).message}\nlast run: exit ${last?.code}\n${last?.stderr}${last?.stdout}`,
    );
  });
}

export function hasScript(): boolean {
  return spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
}

const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

export interface PtyRun {
  code: number;
  /** stdout and stderr as the terminal showed them (merged; \r\n turned into \n). */
  output: string;
}

/**
 * Runs `kubectl scim <args>` on a pseudo-terminal (`script -qfec … /dev/null`, util-linux) and types
 * `answer` + Enter once `prompt` appears. stdin, stdout and stderr of the CLI are all the terminal.
 */
export function kubectlScimInPty(
  args: readonly string[],
  opts: CliOptions & { prompt: string; answer: string },
): Promise<PtyRun> {
  const command = [process.execPath, '--import', TSX, MAIN, ...args].map(shellQuote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: ROOT,
      env: { ...childEnv(opts), SHELL: '/bin/sh', TERM: 'dumb' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    let answered = false;
    const onData = (d: string) => {
      output += d;
      if (!answered && output.includes(opts.prompt)) {
        answered = true;
        child.stdin.write(`${opts.answer}\r`);
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
    child.on('error', reject);
    child.stdin.on('error', () => undefined);
    // stdin stays open until the CLI exits: an EOF on script's stdin would end the session early.
    child.on('close', (code) => {
      clearTimeout(timer);
      const clean = output.replaceAll('\r\n', '\n').replaceAll('\r', '');
      remember({ args, code: code ?? 1, stdout: clean, stderr: '' });
      resolve({ code: code ?? 1, output: clean });
    });
  });
}

/**
 * Everything the CLI printed that must not hold a token: all of stderr, and stdout of every command
 * that does not exist to print one.
 */
export function cliOutputsWithoutTokens(): string[] {
  return runs.flatMap((r) =>
    PRINTS_TOKEN.has(subcommand(r.args) ?? '') ? [r.stderr] : [r.stderr, r.stdout],
  );
}

/** Writes a kubeconfig for the CLI (mode 600) and returns its path. */
export function writeKubeconfig(kc: KubeConfig, name: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kubectl-scim-kc-'));
  const file = path.join(dir, `${name}.kubeconfig`);
  writeFileSync(file, kc.exportConfig(), { mode: 0o600 });
  return file;
}
