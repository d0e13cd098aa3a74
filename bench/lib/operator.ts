// The operator as a benchmark runs it: the built entry point (dist/src/main.js, what `npm start` and
// the container run — no tsx transpiling in the start-up figure), its log in a file, the addresses it
// logs, readiness timed from spawn, Prometheus metrics scraped, memory read from /proc.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { localOperatorFlags } from '../../test/integration/support/operator.js';
import { ROOT } from './cluster.js';

export const ENTRY = path.join(ROOT, 'dist/src/main.js');

/** The node flags of the image's ENTRYPOINT: the benchmark runs the operator as the container does. */
export function imageNodeFlags(): string[] {
  const line = /^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
  const argv = line ? (JSON.parse(line) as string[]) : [];
  if (argv[0] !== 'node' || argv.at(-1) !== 'dist/src/main.js')
    throw new Error(`the Dockerfile's ENTRYPOINT is not node [flags] dist/src/main.js: ${line}`);
  return argv.slice(1, -1);
}

/** Compiles src/ into dist/ (npm run build), so the benchmark measures the code as it is now. */
export function buildOperator(): void {
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  if (r.status !== 0) throw new Error('tsc -p tsconfig.build.json failed');
}

export interface OperatorOptions {
  kubeconfig: string;
  namespaces: string[];
  logFile: string;
  args?: string[];
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** `controller` or `verifier` (the chart's two workloads); default both in one process. */
  mode?: 'controller' | 'verifier';
}

export type Samples = Map<string, number>;

// Operators still running when the benchmark exits (an error, the time limit) are killed with it.
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export class BenchOperator {
  readonly child: ChildProcess;
  /** performance.now() just before spawn. */
  readonly spawnedAt: number;
  metricsUrl: string | undefined;
  verifierUrl: string | undefined;
  /** listMs of every "informer synced" log line, in order. */
  readonly listMs: number[] = [];
  private readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;
  private tail = '';

  constructor(readonly opts: OperatorOptions) {
    const log = createWriteStream(opts.logFile, { flags: 'a' });
    this.spawnedAt = performance.now();
    this.child = spawn(
      process.execPath,
      [
        ...imageNodeFlags(),
        ...(opts.nodeArgs ?? []),
        ENTRY,
        ...(opts.mode ? [opts.mode] : []),
        ...localOperatorFlags(opts.kubeconfig, opts.namespaces, 'info'),
        ...(opts.args ?? []),
      ],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    running.add(this.child);
    const wantsVerifier = opts.mode !== 'controller';
    let partial = '';
    const onData = (d: Buffer) => {
      log.write(d);
      const text = d.toString('utf8');
      this.tail = (this.tail + text).slice(-4000);
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const addresses = !this.metricsUrl || (wantsVerifier && !this.verifierUrl);
        if (!line.startsWith('{') || (!addresses && !line.includes('"informer synced"'))) continue;
        try {
          const rec = JSON.parse(line) as {
            metrics?: { port: number };
            verifier?: string;
            msg?: string;
            listMs?: number;
          };
          if (rec.metrics?.port) this.metricsUrl = `http://127.0.0.1:${rec.metrics.port}`;
          if (typeof rec.verifier === 'string') this.verifierUrl = rec.verifier;
          if (rec.msg === 'informer synced' && typeof rec.listMs === 'number') this.listMs.push(rec.listMs);
        } catch {
          // not a log record
        }
      }
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', onData);
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code) => {
        running.delete(this.child);
        this.exitCode = code;
        log.end();
        resolve(code);
      }),
    );
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  private alive(): void {
    if (this.exitCode !== undefined)
      throw new Error(`the operator exited with ${this.exitCode}:\n${this.tail}`);
  }

  /** Milliseconds from spawn to the first 200 of /readyz (polled every 5 ms). */
  async waitReady(timeoutMs = 600_000): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      this.alive();
      if (this.metricsUrl) {
        const ok = await fetch(`${this.metricsUrl}/readyz`)
          .then((r) => r.ok)
          .catch(() => false);
        if (ok) return performance.now() - this.spawnedAt;
      }
      if (performance.now() > deadline) throw new Error(`the operator was not ready after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async metrics(): Promise<Samples> {
    this.alive();
    const text = await (await fetch(`${this.metricsUrl}/metrics`)).text();
    return parseMetrics(text);
  }

  /** Resident set size now and its peak (VmHWM), in MB (10^6 bytes, as the target is stated), from /proc. */
  memory(): { rssMB: number; peakMB: number } {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kib = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMB: (kib('VmRSS') * 1024) / 1e6, peakMB: (kib('VmHWM') * 1024) / 1e6 };
  }

  /** SIGTERM (graceful: finishes in-flight reconciles) and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.exitCode === undefined) this.child.kill(signal);
    return this.exited;
  }
}

export function parseMetrics(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    samples.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return samples;
}

/** Sum of the samples of one metric whose labels pass `keep` (given the raw label text). */
export function sumOf(
  samples: Samples,
  name: string,
  keep: (labels: string) => boolean = () => true,
): number {
  let total = 0;
  for (const [series, value] of samples) {
    const brace = series.indexOf('{');
    const metric = brace < 0 ? series : series.slice(0, brace);
    if (metric !== name) continue;
    if (keep(brace < 0 ? '' : series.slice(brace))) total += value;
  }
  return total;
}

/** `scim_kube_requests_total` by method. */
export function requestsByMethod(samples: Samples): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [series, value] of samples) {
    const m = /^scim_kube_requests_total\{method="([^"]+)"\}$/.exec(series);
    if (m) out[m[1]!] = value;
  }
  return out;
}

export function diffCounts(
  after: Record<string, number>,
  before: Record<string, number>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}
