// SPEC §6 "memory (RSS) and start-up time (start → ready) with 10,000 domains". The domains are issued
// by the operator (the issuance benchmark's 1,000 plus the rest, which is also reported as issuance at
// scale), then the operator is stopped and started again, several times: process start → first 200
// of /readyz, RSS then and after the restart's reconcile wave has settled (with the peak, VmHWM), and
// what that wave cost in API requests. Baselines in the same run: a bare node process serving HTTP 200
// (start → first 200, RSS), and the operator watching an empty namespace.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { names } from './issuance.js';
import { createDomains, loadKc, type ReadyTracker } from './lib/kube.js';
import { BenchOperator, diffCounts, requestsByMethod } from './lib/operator.js';
import { settled } from './lib/settle.js';
import { median, round } from './lib/stats.js';

export interface StartupOptions {
  kubeconfig: string;
  namespace: string;
  emptyNamespace: string;
  domains: number;
  concurrency: number;
  restarts: number;
  operatorArgs?: string[];
  logDir: string;
  timeoutMs: number;
}

export interface StartRun {
  readyMs: number;
  rssAtReadyMB: number;
  /** After the reconcile wave a restart starts (every domain re-checked). */
  settledAfterMs: number;
  rssSettledMB: number;
  peakRssMB: number;
  requests: Record<string, number>;
}

export interface StartupResult {
  domains: number;
  issuanceAtScale: { domains: number; seconds: number; domainsPerSecond: number; requestsPerDomain: number };
  /** The operator that issued them, once settled. */
  rssAfterIssuingMB: number;
  runs: StartRun[];
  readyMs: number;
  rssMB: number;
  peakRssMB: number;
  baseline: {
    bareNode: { readyMs: number; rssMB: number };
    emptyOperator: { readyMs: number; rssMB: number; peakRssMB: number };
  };
  targets: { rssMB: number; readyMs: number };
  met: { rss: boolean; ready: boolean };
}

async function measureStart(
  o: StartupOptions,
  namespace: string,
  label: string,
  settle: boolean,
): Promise<StartRun> {
  const op = new BenchOperator({
    kubeconfig: o.kubeconfig,
    namespaces: [namespace],
    logFile: path.join(o.logDir, `operator-${label}.log`),
    ...(o.operatorArgs ? { args: o.operatorArgs } : {}),
  });
  try {
    const readyMs = await op.waitReady(o.timeoutMs);
    const atReady = op.memory();
    let run: StartRun = {
      readyMs: round(readyMs, 0),
      rssAtReadyMB: round(atReady.rssMB),
      settledAfterMs: 0,
      rssSettledMB: round(atReady.rssMB),
      peakRssMB: round(atReady.peakMB),
      requests: {},
    };
    if (settle) {
      const { samples, at } = await settled(op, { timeoutMs: o.timeoutMs });
      const mem = op.memory();
      run = {
        ...run,
        settledAfterMs: round(at - op.spawnedAt, 0),
        rssSettledMB: round(mem.rssMB),
        peakRssMB: round(mem.peakMB),
        requests: diffCounts(requestsByMethod(samples), {}),
      };
    }
    return run;
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

export async function runStartup(
  o: StartupOptions,
  issuer: BenchOperator,
  tracker: ReadyTracker,
  existing: number,
  say: (s: string) => void,
): Promise<StartupResult> {
  // The rest of the 10,000, issued by the running operator.
  const kc = loadKc(o.kubeconfig, { keepAlive: true });
  const more = names('d', existing, o.domains);
  const before = await issuer.metrics();
  const t0 = performance.now();
  await createDomains(kc, o.namespace, more, o.concurrency, existing);
  const allReady = await tracker.whenReady(o.domains, o.timeoutMs);
  const { samples: after } = await settled(issuer, { timeoutMs: o.timeoutMs });
  tracker.stop();
  const counts = diffCounts(requestsByMethod(after), requestsByMethod(before));
  const requests = Object.entries(counts)
    .filter(([m]) => m !== 'WATCH')
    .reduce((n, [, v]) => n + v, 0);
  const seconds = (allReady - t0) / 1000;
  const issuanceAtScale = {
    domains: more.length,
    seconds: round(seconds, 1),
    domainsPerSecond: round(more.length / seconds, 1),
    requestsPerDomain: round(requests / more.length, 2),
  };
  const rssAfterIssuingMB = round(issuer.memory().rssMB);
  say(
    `startup: ${more.length} more domains Ready in ${issuanceAtScale.seconds} s (${issuanceAtScale.domainsPerSecond}/s); ` +
      `the issuing operator's RSS ${rssAfterIssuingMB} MB`,
  );
  await issuer.stop();

  const runs: StartRun[] = [];
  for (let i = 1; i <= o.restarts; i++) {
    const run = await measureStart(o, o.namespace, `restart-${i}`, true);
    runs.push(run);
    say(
      `startup: restart ${i}/${o.restarts} with ${o.domains} domains: ready in ${run.readyMs} ms, RSS ${run.rssAtReadyMB} MB ` +
        `(settled after ${run.settledAfterMs} ms: ${run.rssSettledMB} MB, peak ${run.peakRssMB} MB, ${JSON.stringify(run.requests)})`,
    );
  }
  const empty = await measureStart(o, o.emptyNamespace, 'empty', false);
  const bare = await bareNode();
  const readyMs = median(runs.map((r) => r.readyMs));
  const peak = Math.max(...runs.map((r) => r.peakRssMB));
  const rss = Math.max(...runs.map((r) => r.rssSettledMB));
  return {
    domains: o.domains,
    issuanceAtScale,
    rssAfterIssuingMB,
    runs,
    readyMs,
    rssMB: rss,
    peakRssMB: peak,
    baseline: {
      bareNode: bare,
      emptyOperator: { readyMs: empty.readyMs, rssMB: empty.rssAtReadyMB, peakRssMB: empty.peakRssMB },
    },
    targets: { rssMB: 200, readyMs: 10_000 },
    met: { rss: peak <= 200 && rssAfterIssuingMB <= 200, ready: readyMs <= 10_000 },
  };
}
