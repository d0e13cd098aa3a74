// SPEC §6 "issuance": N ScimDomains (1,000) applied at once by a client with bounded concurrency →
// all Ready. Reports seconds, domains/s and the operator's API requests per domain, counted client
// side by the operator itself (`scim_kube_requests_total{method}`, scraped before and after; watches
// reported apart). Baselines, in the same run: the time the same client needs just to create N
// ScimDomains with no operator watching their namespace, and — the one the target divides by — the
// same creates followed by the operator's own writes per domain, made by the operator's client with
// the operator's concurrency and no operator logic (bench/lib/same-writes.ts). The ratio of the two
// rates is what the operator's decisions, caches and bookkeeping cost on top of the API server.
//
// The client keeps its connections alive (as client-go, kubectl and GitOps controllers do), so that
// its own cost — the floor of the measurement — stays small.
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { createDomains, loadKc, ReadyTracker } from './lib/kube.js';
import { BenchOperator, diffCounts, requestsByMethod, sumOf } from './lib/operator.js';
import { parseConfig } from '../src/config.js';
import { runSameWrites, templatesFrom, type SameWritesResult } from './lib/same-writes.js';
import { round } from './lib/stats.js';
import { settled } from './lib/settle.js';

export interface IssuanceOptions {
  kubeconfig: string;
  namespace: string;
  baselineNamespace: string;
  domains: number;
  concurrency: number;
  logDir: string;
  timeoutMs: number;
  nodeArgs?: string[];
  operatorArgs?: string[];
}

export interface IssuanceResult {
  domains: number;
  clientConcurrency: number;
  seconds: number;
  domainsPerSecond: number;
  /** When the client had created the last domain (s after the first request). */
  createdSeconds: number;
  requestsPerDomain: { atAllReady: number; settled: number };
  requestsByMethod: { atAllReady: Record<string, number>; settled: Record<string, number> };
  watchRequests: number;
  reconciles: number;
  baseline: {
    /** The benchmark's client (keep-alive) creating N domains, no operator. */
    createSeconds: number;
    createPerSecond: number;
    /** The same creates plus the operator's writes per domain, no operator (bench/lib/same-writes.ts). */
    sameWrites: SameWritesResult & { workers: number };
  };
  /** domainsPerSecond / baseline.sameWrites.domainsPerSecond. */
  ratio: number;
  targets: { domainsPerSecond: number; requestsPerDomain: number; ratio: number };
  met: { domainsPerSecond: boolean; requestsPerDomain: boolean; ratio: boolean };
}

export const names = (prefix: string, from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => `${prefix}-${String(from + i).padStart(5, '0')}`);

const nonWatchTotal = (counts: Record<string, number>) =>
  Object.entries(counts)
    .filter(([m]) => m !== 'WATCH')
    .reduce((n, [, v]) => n + v, 0);

export async function runIssuance(
  o: IssuanceOptions,
  say: (s: string) => void,
): Promise<{
  result: IssuanceResult;
  operator: BenchOperator;
  tracker: ReadyTracker;
  domainNames: string[];
}> {
  const kc = loadKc(o.kubeconfig, { keepAlive: true });

  // Baseline: the client alone, no operator watching this namespace. A short warm-up first, so the
  // API server's first requests for the CRD do not count against either figure.
  await createDomains(kc, o.baselineNamespace, names('warm', 0, 20), o.concurrency);
  const baselineMs = await createDomains(kc, o.baselineNamespace, names('base', 0, o.domains), o.concurrency);
  say(`baseline: the client creates ${o.domains} domains in ${(baselineMs / 1000).toFixed(2)} s`);

  const operator = new BenchOperator({
    kubeconfig: o.kubeconfig,
    namespaces: [o.namespace],
    logFile: path.join(o.logDir, 'operator-issuance.log'),
    ...(o.nodeArgs ? { nodeArgs: o.nodeArgs } : {}),
    ...(o.operatorArgs ? { args: o.operatorArgs } : {}),
  });
  await operator.waitReady();
  const tracker = new ReadyTracker(kc, o.namespace);
  await tracker.start();
  const before = await operator.metrics();

  const domainNames = names('d', 0, o.domains);
  const t0 = performance.now();
  const createdMs = await createDomains(kc, o.namespace, domainNames, o.concurrency);
  const allReady = await tracker.whenReady(o.domains, o.timeoutMs);
  const atReady = await operator.metrics();
  const { samples: after } = await settled(operator);

  const seconds = (allReady - t0) / 1000;

  // The ceiling: the same writes without the operator, bodies copied from what it just wrote.
  // The baseline's concurrency is the operator's: its --workers as this run sets it (or its default).
  const { workers } = parseConfig(o.operatorArgs ?? [], {});
  const templateDomain = domainNames[0]!;
  const sameWrites = await runSameWrites({
    kubeconfig: o.kubeconfig,
    namespace: o.baselineNamespace,
    names: names('same', 0, o.domains),
    clientConcurrency: o.concurrency,
    workers,
    templates: await templatesFrom(o.kubeconfig, o.namespace, templateDomain),
    templateDomain,
    timeoutMs: o.timeoutMs,
  });
  const ratio = round(o.domains / seconds / sameWrites.domainsPerSecond, 3);
  say(
    `baseline: the same writes without the operator (${workers} workers): ${sameWrites.seconds} s ` +
      `(${sameWrites.domainsPerSecond}/s); the operator's ratio ${ratio}`,
  );
  const atReadyCounts = diffCounts(requestsByMethod(atReady), requestsByMethod(before));
  const settledCounts = diffCounts(requestsByMethod(after), requestsByMethod(before));
  const perDomain = {
    atAllReady: round(nonWatchTotal(atReadyCounts) / o.domains, 2),
    settled: round(nonWatchTotal(settledCounts) / o.domains, 2),
  };
  const result: IssuanceResult = {
    domains: o.domains,
    clientConcurrency: o.concurrency,
    seconds: round(seconds, 2),
    domainsPerSecond: round(o.domains / seconds, 1),
    createdSeconds: round(createdMs / 1000, 2),
    requestsPerDomain: perDomain,
    requestsByMethod: {
      atAllReady: Object.fromEntries(Object.entries(atReadyCounts).filter(([m]) => m !== 'WATCH')),
      settled: Object.fromEntries(Object.entries(settledCounts).filter(([m]) => m !== 'WATCH')),
    },
    watchRequests: settledCounts.WATCH ?? 0,
    reconciles: sumOf(after, 'scim_reconcile_total') - sumOf(before, 'scim_reconcile_total'),
    baseline: {
      createSeconds: round(baselineMs / 1000, 2),
      createPerSecond: round(o.domains / (baselineMs / 1000), 1),
      sameWrites: { ...sameWrites, workers },
    },
    ratio,
    targets: { domainsPerSecond: 100, requestsPerDomain: 4, ratio: 0.7 },
    met: {
      domainsPerSecond: o.domains / seconds >= 100,
      requestsPerDomain: perDomain.settled <= 4,
      ratio: ratio >= 0.7,
    },
  };
  say(
    `issuance: ${o.domains} domains Ready in ${result.seconds} s (${result.domainsPerSecond}/s), ` +
      `${perDomain.atAllReady} requests/domain at all-Ready, ${perDomain.settled} settled ${JSON.stringify(settledCounts)}`,
  );
  return { result, operator, tracker, domainNames };
}
