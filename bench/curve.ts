// SPEC §6 "memory and start-up", as a cost curve (issue #16): for each size (1,000 / 10,000 / 30,000
// ScimDomains, every one issued by the operator, so each has its token Secret), each of the chart's
// two workloads — `controller` and `verifier` — is started several times on them: process start →
// first 200 of /readyz, the informers' initial list time (from their "informer synced" log lines),
// RSS at ready, after the restart has settled (the controller re-checks every domain) and its peak
// (VmHWM). Then a least-squares line through the sizes gives bytes per domain (the slope), the fixed
// cost (the intercept) and how straight the growth is (R²); the chart's resources and the sizing
// table in docs/benchmarks.md are read off it. Baselines in the same run: each workload on an empty
// namespace, and a bare node process answering HTTP 200.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { names } from './issuance.js';
import { createDomains, loadKc, ReadyTracker } from './lib/kube.js';
import { BenchOperator, diffCounts, requestsByMethod } from './lib/operator.js';
import { settled } from './lib/settle.js';
import { median, round } from './lib/stats.js';

export type Workload = 'controller' | 'verifier';
export const WORKLOADS: readonly Workload[] = ['controller', 'verifier'];

export interface CurveOptions {
  kubeconfig: string;
  namespace: string;
  emptyNamespace: string;
  /** Ascending; the first may not be below the domains already issued. */
  sizes: number[];
  concurrency: number;
  restarts: number;
  operatorArgs?: string[];
  logDir: string;
  timeoutMs: number;
}

export interface StartRun {
  readyMs: number;
  /** The slowest informer's initial list (all pages), ms. */
  listMs: number;
  rssAtReadyMB: number;
  settledAfterMs: number;
  rssSettledMB: number;
  peakRssMB: number;
  requests: Record<string, number>;
}

export interface CurvePoint {
  workload: Workload;
  domains: number;
  runs: StartRun[];
  /** Medians over the runs (start-up, list) and the largest settled/peak RSS. */
  readyMs: number;
  listMs: number;
  rssMB: number;
  peakRssMB: number;
}

export interface Fit {
  /** y at 0 domains. */
  intercept: number;
  /** y per domain. */
  slope: number;
  r2: number;
}

export interface WorkloadCurve {
  points: CurvePoint[];
  empty: { readyMs: number; rssMB: number; peakRssMB: number };
  /** RSS (MB) against domains: the slope in bytes per domain is `bytesPerDomain`. */
  rss: Fit;
  peak: Fit;
  ready: Fit;
  list: Fit;
  bytesPerDomain: number;
}

export interface CurveResult {
  sizes: number[];
  issuance: { from: number; to: number; seconds: number; domainsPerSecond: number }[];
  workloads: Record<Workload, WorkloadCurve>;
  bareNode: { readyMs: number; rssMB: number };
  targets: { at: number; rssMB: Record<Workload, number>; readyMs: number };
  met: Record<Workload, { rss: boolean; ready: boolean }>;
}

export const TARGETS = { at: 10_000, rssMB: { controller: 150, verifier: 100 }, readyMs: 5_000 } as const;

/** Ordinary least squares y = intercept + slope·x, with the coefficient of determination. */
export function linearFit(xs: readonly number[], ys: readonly number[]): Fit {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  const intercept = my - slope * mx;
  const r2 = syy === 0 ? 1 : (sxy * sxy) / (sxx * syy);
  return { intercept, slope, r2 };
}

export const at = (f: Fit, domains: number) => f.intercept + f.slope * domains;

async function measureStart(
  o: CurveOptions,
  workload: Workload,
  namespace: string,
  label: string,
): Promise<StartRun> {
  const op = new BenchOperator({
    kubeconfig: o.kubeconfig,
    namespaces: [namespace],
    logFile: path.join(o.logDir, `${workload}-${label}.log`),
    mode: workload,
    ...(o.operatorArgs ? { args: o.operatorArgs } : {}),
  });
  try {
    const readyMs = await op.waitReady(o.timeoutMs);
    const atReady = op.memory();
    const { samples, at: quietAt } = await settled(op, { timeoutMs: o.timeoutMs });
    const mem = op.memory();
    return {
      readyMs: round(readyMs, 0),
      listMs: Math.max(0, ...op.listMs),
      rssAtReadyMB: round(atReady.rssMB),
      settledAfterMs: round(quietAt - op.spawnedAt, 0),
      rssSettledMB: round(mem.rssMB),
      peakRssMB: round(mem.peakMB),
      requests: diffCounts(requestsByMethod(samples), {}),
    };
  } finally {
    await op.stop();
  }
}

/** A bare node process answering HTTP 200: start → first 200, and its RSS. */
async function bareNode(): Promise<{ readyMs: number; rssMB: number }> {
  const script = `
    const http = require('node:http');
    const s = http.createServer((q, r) => r.end('ok')).listen(0, '127.0.0.1', () => console.log(s.address().port));
    process.on('message', () => process.send(process.memoryUsage().rss));`;
  const t0 = performance.now();
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  try {
    const port = await new Promise<number>((resolve) =>
      child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))),
    );
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const readyMs = performance.now() - t0;
    child.send('rss');
    const rss = await new Promise<number>((resolve) => child.once('message', (m) => resolve(Number(m))));
    return { readyMs: round(readyMs, 0), rssMB: round(rss / 1e6) };
  } finally {
    child.kill();
  }
}

/**
 * Grows the namespace to each size with an operator (both workloads in one process, as the issuance
 * benchmark runs it), stops it, and measures each workload alone on that size.
 */
export async function runCurve(
  o: CurveOptions,
  firstIssuer: BenchOperator,
  firstTracker: ReadyTracker,
  existing: number,
  say: (s: string) => void,
): Promise<CurveResult> {
  const kc = loadKc(o.kubeconfig, { keepAlive: true });
  const issuance: CurveResult['issuance'] = [];
  const points: CurvePoint[] = [];
  let issuer: BenchOperator | undefined = firstIssuer;
  let tracker: ReadyTracker | undefined = firstTracker;
  let have = existing;
  for (const size of o.sizes) {
    if (size > have) {
      if (!issuer) {
        issuer = new BenchOperator({
          kubeconfig: o.kubeconfig,
          namespaces: [o.namespace],
          logFile: path.join(o.logDir, `issuer-${size}.log`),
          ...(o.operatorArgs ? { args: o.operatorArgs } : {}),
        });
        await issuer.waitReady(o.timeoutMs);
        await settled(issuer, { timeoutMs: o.timeoutMs });
      }
      if (!tracker) {
        tracker = new ReadyTracker(kc, o.namespace);
        await tracker.start();
      }
      const t0 = performance.now();
      await createDomains(kc, o.namespace, names('d', have, size), o.concurrency, have);
      const allReady = await tracker.whenReady(size, o.timeoutMs);
      await settled(issuer, { timeoutMs: o.timeoutMs });
      const seconds = (allReady - t0) / 1000;
      issuance.push({
        from: have,
        to: size,
        seconds: round(seconds, 1),
        domainsPerSecond: round((size - have) / seconds, 1),
      });
      say(`curve: ${size - have} more domains Ready in ${round(seconds, 1)} s (${size} in all)`);
      have = size;
    }
    tracker?.stop();
    tracker = undefined;
    await issuer?.stop();
    issuer = undefined;
    for (const workload of WORKLOADS) {
      const runs: StartRun[] = [];
      for (let i = 1; i <= o.restarts; i++) {
        const run = await measureStart(o, workload, o.namespace, `${size}-${i}`);
        runs.push(run);
        say(
          `curve: ${workload} on ${size} domains, start ${i}/${o.restarts}: ready ${run.readyMs} ms (list ${run.listMs} ms), ` +
            `RSS ${run.rssAtReadyMB} MB at ready, ${run.rssSettledMB} MB settled, peak ${run.peakRssMB} MB`,
        );
      }
      points.push({
        workload,
        domains: size,
        runs,
        readyMs: median(runs.map((r) => r.readyMs)),
        listMs: median(runs.map((r) => r.listMs)),
        rssMB: Math.max(...runs.map((r) => r.rssSettledMB)),
        peakRssMB: Math.max(...runs.map((r) => r.peakRssMB)),
      });
    }
  }
  tracker?.stop();
  await issuer?.stop();

  const workloads = {} as Record<Workload, WorkloadCurve>;
  const met = {} as CurveResult['met'];
  for (const workload of WORKLOADS) {
    const mine = points.filter((p) => p.workload === workload);
    const xs = mine.map((p) => p.domains);
    const empty = await measureStart(o, workload, o.emptyNamespace, 'empty');
    const rss = linearFit(
      xs,
      mine.map((p) => p.rssMB),
    );
    workloads[workload] = {
      points: mine,
      empty: { readyMs: empty.readyMs, rssMB: empty.rssSettledMB, peakRssMB: empty.peakRssMB },
      rss,
      peak: linearFit(
        xs,
        mine.map((p) => p.peakRssMB),
      ),
      ready: linearFit(
        xs,
        mine.map((p) => p.readyMs),
      ),
      list: linearFit(
        xs,
        mine.map((p) => p.listMs),
      ),
      bytesPerDomain: Math.round(rss.slope * 1e6),
    };
    const target = mine.find((p) => p.domains === TARGETS.at);
    met[workload] = {
      rss: target !== undefined && target.rssMB <= TARGETS.rssMB[workload],
      ready: target !== undefined && target.readyMs <= TARGETS.readyMs,
    };
  }
  return {
    sizes: o.sizes,
    issuance,
    workloads,
    bareNode: await bareNode(),
    targets: { at: TARGETS.at, rssMB: { ...TARGETS.rssMB }, readyMs: TARGETS.readyMs },
    met,
  };
}

/** Memory to request for a workload watching `domains`: the fitted peak plus a quarter, in MiB. */
export function memoryRequestMiB(curve: WorkloadCurve, domains: number): number {
  const bytes = at(curve.peak, domains) * 1e6 * 1.25;
  return Math.ceil(bytes / 2 ** 20 / 16) * 16;
}
