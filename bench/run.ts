// `npm run bench`: every benchmark of SPEC §6 in one run, each figure beside its baseline, written to
// bench/results/<timestamp>.json and .md (docs/benchmarks.md summarises a run).
//
//   npm run bench                                   # own control plane in .cluster-bench/, all figures
//   npm run bench -- --kubeconfig .cluster/kubeconfig   # an existing cluster (dedicated namespaces)
//   npm run bench -- --skip verify,curve --rotations 100 --sizes 1000,5000
//
// Order: the verifier benchmark first (bench/verify.ts as a child process, CPU-bound, while the
// control plane is idle), then issuance of 1,000 domains beside its same-writes baseline, revocation
// propagation with those 1,000 loaded, then the cost curve (bench/curve.ts): each workload's start-up,
// initial list and memory at 1,000, 10,000 and 30,000 domains, with a linear fit. Loopback only;
// every phase has a time limit and the whole run one more (--time-limit, minutes). The namespaces are
// deleted at the end (with its own control plane, the plane is removed altogether).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runIssuance, type IssuanceResult } from './issuance.js';
import { benchCluster, createNamespace, deleteNamespace, ROOT, type BenchCluster } from './lib/cluster.js';
import { machine, type Machine } from './lib/machine.js';
import { buildOperator, imageNodeFlags, type BenchOperator } from './lib/operator.js';
import { runPropagation, type PropagationResult } from './propagation.js';
import { at, memoryRequestMiB, runCurve, WORKLOADS, type CurveResult } from './curve.js';

const { values: args } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    skip: { type: 'string', default: '' },
    domains: { type: 'string', default: '1000' },
    // The cost curve's sizes; the first at least --domains.
    sizes: { type: 'string', default: '1000,10000,30000' },
    rotations: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '32' },
    restarts: { type: 'string', default: '3' },
    'verify-args': { type: 'string', default: '' },
    'time-limit': { type: 'string', default: '60' },
    // Writes a V8 CPU profile of the operator during issuance (node --cpu-prof) next to its log.
    profile: { type: 'boolean', default: false },
    // Extra operator flags for every operator the run starts, e.g. "--workers 16".
    'operator-args': { type: 'string', default: '' },
    out: { type: 'string', default: path.join(ROOT, 'bench/results') },
  },
});
const skip = new Set(args.skip.split(',').filter(Boolean));
const DOMAINS = Number(args.domains);
const SIZES = args.sizes.split(',').map(Number);
const ROTATIONS = Number(args.rotations);
const CONCURRENCY = Number(args.concurrency);
const RESTARTS = Number(args.restarts);
const PHASE_TIMEOUT_MS = 15 * 60_000;
const OPERATOR_ARGS = args['operator-args'].split(' ').filter(Boolean);

const say = (s: string) => process.stderr.write(`[bench] ${s}\n`);

interface VerifierFigures {
  domains: number;
  bare: { requestsPerSecond: number; p99Ms: number };
  verify: { requestsPerSecond: number; p99Ms: number };
  ratio: number;
  targets: { ratio: { target: number; met: boolean }; p99Ms: { target: number; met: boolean } };
  markdown: string;
  raw: unknown;
}

/** bench/verify.ts in a child process; its JSON result, read back from a scratch directory. */
async function runVerify(): Promise<VerifierFigures> {
  const out = mkdtempSync(path.join(os.tmpdir(), 'scim-bench-verify-'));
  const extra = args['verify-args'].split(' ').filter(Boolean);
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(
      process.execPath,
      // With the image's node flags: the verifier in that process runs as it does in its pod.
      [
        ...imageNodeFlags(),
        '--expose-gc',
        '--import',
        'tsx',
        path.join(ROOT, 'bench/verify.ts'),
        '--out',
        out,
        ...extra,
      ],
      { cwd: ROOT, stdio: ['ignore', process.stderr, process.stderr] },
    );
    child.on('exit', resolve);
  });
  if (code !== 0) throw new Error(`bench/verify.ts exited with ${code}`);
  const file = readdirSync(out).find((f) => f.endsWith('.json'));
  if (!file) throw new Error(`bench/verify.ts wrote no JSON into ${out}`);
  const raw = JSON.parse(readFileSync(path.join(out, file), 'utf8')) as Omit<
    VerifierFigures,
    'markdown' | 'raw'
  > & {
    settings: { domains: number };
  };
  const md = readdirSync(out).find((f) => f.endsWith('.md'));
  return {
    domains: raw.settings.domains,
    bare: raw.bare,
    verify: raw.verify,
    ratio: raw.ratio,
    targets: raw.targets,
    markdown: md ? readFileSync(path.join(out, md), 'utf8') : '',
    raw,
  };
}

interface Results {
  benchmark: 'scim-token-operator';
  date: string;
  machine: Machine;
  cluster: BenchCluster['kind'];
  settings: Record<string, unknown>;
  reproduce: string;
  logs: string;
  /** 1-minute load average after each phase: figures from a busy machine are not comparable. */
  loadAverage: Record<string, number>;
  issuance?: IssuanceResult;
  propagation?: PropagationResult;
  verifier?: Omit<VerifierFigures, 'markdown'>;
  curve?: CurveResult;
}

const yes = (b: boolean) => (b ? 'yes' : '**no**');
const n0 = (n: number) => Math.round(n).toLocaleString('en-US');

function markdown(r: Results, verifierMd: string): string {
  const m = r.machine;
  const rows: string[] = [];
  const i = r.issuance;
  if (i) {
    rows.push(
      `| issuance: ${n0(i.domains)} ScimDomains applied at once (client concurrency ${i.clientConcurrency}) → all Ready | ${i.seconds} s = ${i.domainsPerSecond} domains/s; **ratio ${i.ratio}** | the same writes per domain without the operator (its client, ${i.baseline.sameWrites.workers} workers): ${i.baseline.sameWrites.seconds} s (${i.baseline.sameWrites.domainsPerSecond}/s); the client's creates alone: ${i.baseline.createSeconds} s (${i.baseline.createPerSecond}/s) | ratio ≥ ${i.targets.ratio} | ${yes(i.met.ratio)} |`,
      `| API requests per domain (operator, client side, watches excluded) | **${i.requestsPerDomain.settled}** settled (${i.requestsPerDomain.atAllReady} at all-Ready): ${Object.entries(
        i.requestsByMethod.settled,
      )
        .map(([k, v]) => `${k} ${(v / i.domains).toFixed(2)}`)
        .join(', ')} | — | ≤ 4 | ${yes(i.met.requestsPerDomain)} |`,
    );
  }
  const p = r.propagation;
  if (p) {
    rows.push(
      `| revocation propagation, ${n0(p.domainsLoaded)} domains loaded, ${p.rotations} sequential rotations: POST returned → first 401 | p50 ${p.latencyMs.p50} / p95 ${p.latencyMs.p95} / **p99 ${p.latencyMs.p99}** / max ${p.latencyMs.max} ms | the same poll on an already-rejected token: p50 ${p.baselineMs.p50} / p99 ${p.baselineMs.p99} ms | p99 < 100 ms | ${yes(p.met)} |`,
    );
  }
  const v = r.verifier;
  if (v) {
    rows.push(
      `| verifier, ${n0(v.domains)} domains indexed (bench/verify.ts) | ${n0(v.verify.requestsPerSecond)} req/s, p99 ${v.verify.p99Ms.toFixed(3)} ms; **ratio ${v.ratio}** | bare node:http 200: ${n0(v.bare.requestsPerSecond)} req/s, p99 ${v.bare.p99Ms.toFixed(3)} ms | ratio ≥ ${v.targets.ratio.target}, p99 ≤ ${v.targets.p99Ms.target} ms | ${yes(v.targets.ratio.met && v.targets.p99Ms.met)} |`,
    );
  }
  const c = r.curve;
  if (c) {
    for (const w of WORKLOADS) {
      const point = c.workloads[w].points.find((x) => x.domains === c.targets.at);
      if (!point) continue;
      const empty = c.workloads[w].empty;
      rows.push(
        `| ${w} start-up (process start → /readyz 200) with ${n0(point.domains)} domains, median of ${point.runs.length} | **${(point.readyMs / 1000).toFixed(2)} s** | empty namespace: ${(empty.readyMs / 1000).toFixed(2)} s; bare node http: ${(c.bareNode.readyMs / 1000).toFixed(2)} s | ≤ ${c.targets.readyMs / 1000} s | ${yes(c.met[w].ready)} |`,
        `| ${w} RSS with ${n0(point.domains)} domains, settled (peak) | **${point.rssMB} MB** (${point.peakRssMB} MB) | empty namespace: ${empty.rssMB} MB; bare node http: ${c.bareNode.rssMB} MB | ≤ ${c.targets.rssMB[w]} MB | ${yes(c.met[w].rss)} |`,
      );
    }
  }
  const details: string[] = [];
  if (i)
    details.push(
      `- Issuance: ${i.reconciles} reconciles for ${n0(i.domains)} domains; the client had sent the last create after ${i.createdSeconds} s; ${i.watchRequests} watch requests.`,
    );
  if (p)
    details.push(
      `- Propagation: the operator planned the rotation p50 ${p.pickupMs.p50} / p99 ${p.pickupMs.p99} ms after the POST returned; the POST took p50 ${p.postMs.p50} ms; ${p.pollsPerRotation} verifier polls per rotation; reasons ${JSON.stringify(p.reasons)}.`,
    );
  const curve: string[] = [];
  if (c) {
    curve.push(
      '### Cost curve',
      '',
      `Each workload started ${c.workloads.controller.points[0]?.runs.length ?? 0} times on each size (domains issued by the operator, each with its Secret); start-up and list time are medians, RSS the largest settled value, peak = VmHWM. Growth: ${c.issuance.map((g) => `${n0(g.from)} → ${n0(g.to)} in ${g.seconds} s (${g.domainsPerSecond}/s)`).join('; ')}.`,
      '',
      '| workload | domains | start → ready (ms) | initial list (ms) | RSS settled (MB) | peak (MB) | runs (ready ms / RSS MB) |',
      '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    );
    for (const w of WORKLOADS) {
      const wc = c.workloads[w];
      curve.push(`| ${w} | 0 | ${wc.empty.readyMs} | — | ${wc.empty.rssMB} | ${wc.empty.peakRssMB} | |`);
      for (const x of wc.points)
        curve.push(
          `| ${w} | ${n0(x.domains)} | ${x.readyMs} | ${x.listMs} | ${x.rssMB} | ${x.peakRssMB} | ${x.runs.map((run) => `${run.readyMs} / ${run.rssSettledMB}`).join(', ')} |`,
        );
    }
    curve.push(
      '',
      '| workload | RSS = a + b·domains | bytes per domain | R² | peak fit R² | start-up = a + b·domains | R² | initial list R² |',
      '| --- | --- | ---: | ---: | ---: | --- | ---: | ---: |',
    );
    for (const w of WORKLOADS) {
      const wc = c.workloads[w];
      curve.push(
        `| ${w} | ${wc.rss.intercept.toFixed(1)} MB + ${(wc.rss.slope * 1000).toFixed(2)} MB per 1,000 | ${n0(wc.bytesPerDomain)} | ${wc.rss.r2.toFixed(4)} | ${wc.peak.r2.toFixed(4)} | ${wc.ready.intercept.toFixed(0)} ms + ${(wc.ready.slope * 1000).toFixed(1)} ms per 1,000 | ${wc.ready.r2.toFixed(4)} | ${wc.list.r2.toFixed(4)} |`,
      );
    }
    curve.push(
      '',
      'Sizing (from the peak fit; request = fitted peak + 25 %, rounded up to 16 MiB; beyond the largest measured size the line is extrapolated):',
      '',
      '| domains | controller peak (MB) | controller memory request | verifier peak (MB) | verifier memory request |',
      '| ---: | ---: | ---: | ---: | ---: |',
    );
    for (const d of [1_000, 10_000, 30_000, 100_000]) {
      const ctl = c.workloads.controller;
      const ver = c.workloads.verifier;
      curve.push(
        `| ${n0(d)}${d > Math.max(...c.sizes) ? ' (extrapolated)' : ''} | ${at(ctl.peak, d).toFixed(0)} | ${memoryRequestMiB(ctl, d)}Mi | ${at(ver.peak, d).toFixed(0)} | ${memoryRequestMiB(ver, d)}Mi |`,
      );
    }
  }
  return [
    `## Run ${r.date}`,
    '',
    `Machine: ${m.nproc} CPUs (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}, Kubernetes ${m.kubernetes} (${r.cluster === 'own' ? 'local control plane started for the run' : 'given cluster'}), ${m.platform}; load average ${m.loadAverageAtStart} at the start, ${Object.entries(
      r.loadAverage,
    )
      .map(([k, v]) => `${v} after ${k}`)
      .join(', ')}.`,
    `Reproduce: \`${r.reproduce}\``,
    '',
    '| figure | measured | baseline (same run) | target | met |',
    '| --- | --- | --- | --- | :---: |',
    ...rows,
    '',
    ...details,
    '',
    ...curve,
    '',
    verifierMd,
  ].join('\n');
}

async function main(): Promise<void> {
  const date = new Date().toISOString();
  const stamp = date.replace(/[:.]/g, '-');
  const logs = mkdtempSync(path.join(os.tmpdir(), `scim-bench-${stamp}-`));
  const limit = setTimeout(
    () => {
      say(`time limit of ${args['time-limit']} minutes reached; stopping`);
      process.exit(2);
    },
    Number(args['time-limit']) * 60_000,
  );
  limit.unref();

  say('building dist/ (tsc -p tsconfig.build.json)');
  buildOperator();
  const cluster = await benchCluster(args.kubeconfig);
  const results: Results = {
    benchmark: 'scim-token-operator',
    date,
    machine: machine(cluster.kubernetes),
    cluster: cluster.kind,
    settings: {
      domains: DOMAINS,
      sizes: SIZES,
      rotations: ROTATIONS,
      clientConcurrency: CONCURRENCY,
      restarts: RESTARTS,
      operatorFlags: `--log-level info --verify-insecure (loopback)${OPERATOR_ARGS.length ? ` ${OPERATOR_ARGS.join(' ')}` : ''}; otherwise defaults (--workers 4)`,
      skip: [...skip],
    },
    loadAverage: {},
    reproduce: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    logs,
  };
  say(`machine: ${JSON.stringify(results.machine)}; operator logs in ${logs}`);
  const load = (phase: string) => {
    results.loadAverage[phase] = Number(os.loadavg()[0]!.toFixed(2));
    say(`load average after ${phase}: ${results.loadAverage[phase]}`);
  };

  let verifierMd = '';
  if (!skip.has('verify')) {
    say('verifier: bench/verify.ts');
    const v = await runVerify();
    verifierMd = v.markdown;
    const { markdown: _md, ...figures } = v;
    results.verifier = figures;
    load('verifier');
  }

  const base = `bench-${Date.now().toString(36)}`;
  const ns = { main: base, baseline: `${base}-baseline`, empty: `${base}-empty` };
  let operator: BenchOperator | undefined;
  try {
    if (!skip.has('cluster')) {
      for (const n of Object.values(ns)) await createNamespace(cluster.kubeconfig, n);
      const issued = await runIssuance(
        {
          kubeconfig: cluster.kubeconfig,
          namespace: ns.main,
          baselineNamespace: ns.baseline,
          domains: DOMAINS,
          concurrency: CONCURRENCY,
          logDir: logs,
          timeoutMs: PHASE_TIMEOUT_MS,
          operatorArgs: OPERATOR_ARGS,
          ...(args.profile ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', logs] } : {}),
        },
        say,
      );
      operator = issued.operator;
      results.issuance = issued.result;
      load('issuance');
      if (!skip.has('propagation')) {
        results.propagation = await runPropagation(
          {
            kubeconfig: cluster.kubeconfig,
            namespace: ns.main,
            rotations: ROTATIONS,
            timeoutMs: PHASE_TIMEOUT_MS,
          },
          operator,
          issued.domainNames,
          say,
        );
        load('propagation');
      }
      if (!skip.has('curve')) {
        results.curve = await runCurve(
          {
            kubeconfig: cluster.kubeconfig,
            namespace: ns.main,
            emptyNamespace: ns.empty,
            sizes: SIZES,
            concurrency: CONCURRENCY,
            restarts: RESTARTS,
            operatorArgs: OPERATOR_ARGS,
            logDir: logs,
            timeoutMs: PHASE_TIMEOUT_MS,
          },
          operator,
          issued.tracker,
          DOMAINS,
          say,
        );
        operator = undefined;
        load('curve');
      } else issued.tracker.stop();
    }
  } finally {
    await operator?.stop();
    if (cluster.kind === 'given')
      for (const n of Object.values(ns)) await deleteNamespace(cluster.kubeconfig, n);
    cluster.stop();
  }

  mkdirSync(args.out, { recursive: true });
  const file = path.join(args.out, stamp);
  const md = markdown(results, verifierMd);
  writeFileSync(`${file}.json`, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(`${file}.md`, `${md}\n`);
  process.stdout.write(`\n${md}\n\nwrote ${file}.json and ${file}.md\n`);
}

main().catch((err: unknown) => {
  say(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
