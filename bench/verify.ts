// SPEC §6 "verifier": requests/s and latency of GET /v1/verify with 10,000 domains indexed, as a ratio
// to a bare node:http server answering 200 in the same run, loaded the same way.
//
//   npm run bench:verify                       # defaults below
//   npm run bench:verify -- --duration 5 --rounds 1 --domains 1000
//
// The index is filled in-process (building 10,000 real ScimDomains is the issuance benchmark's job);
// the request handler, server, metrics and token checks are the production ones. Both servers run in
// this process, one at a time under load; the load comes from a child process (bench/load.ts, with
// autocannon) over loopback. Rounds alternate bare → verifier so drift (thermal, noisy neighbours)
// hits both alike; the figures reported are the medians over rounds.
//
// Writes bench/results/<timestamp>-verify.json and .md. A benchmark, not a test: it reports whether
// the targets (ratio ≥ 0.85, p99 ≤ 5 ms) are met and always exits 0 unless it could not run.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateToken } from '../src/rules/token.js';
import { createLogger } from '../src/observability/logger.js';
import { Metrics } from '../src/observability/metrics.js';
import { scimDomainFixture } from '../test/support/verifier-fixtures.js';
import { VERIFY_PATH, createVerifierHandler } from '../src/verifier/handler.js';
import { startVerifierServer } from '../src/verifier/server.js';
import { TokenIndex } from '../src/verifier/token-index.js';
import type { LoadJob, LoadResult } from './load.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');

const { values: args } = parseArgs({
  options: {
    domains: { type: 'string', default: '10000' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
    // A third server: the bare one plus a busy-wait as long as the verifier handler's own cost.
    control: { type: 'boolean', default: true },
    out: { type: 'string', default: path.join(ROOT, 'bench/results') },
  },
});
const DOMAINS = Number(args.domains);
const DURATION_S = Number(args.duration);
const WARMUP_S = Number(args.warmup);
const ROUNDS = Number(args.rounds);
const CONNECTIONS = Number(args.connections);

const TARGET_RATIO = 0.85;
const TARGET_P99_MS = 5;

// The request mix: mostly the tokens of real domains, with every kind of rejection in it.
const MIX = { valid: 70, unknown: 10, revoked: 10, malformed: 5, missing: 5 } as const;

const newToken = () => generateToken((n) => randomBytes(n));
const log = createLogger({ level: 'silent' });

function buildIndex(): {
  index: TokenIndex;
  current: string[];
  revoked: string[];
  ms: number;
  heapMiB: number;
} {
  const current: string[] = [];
  const revoked: string[] = [];
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const index = new TokenIndex();
  for (let i = 0; i < DOMAINS; i++) {
    const token = newToken();
    const old = newToken();
    current.push(token);
    revoked.push(old);
    index.upsert(
      scimDomainFixture({
        name: `domain-${i}`,
        namespace: `tenant-${i % 50}`,
        domain: `customer-${i}.example.com`,
        token,
        revoked: [old],
        identityProvider: (['EntraID', 'Okta', 'GoogleWorkspace', 'Other'] as const)[i % 4]!,
      }),
    );
  }
  const ms = performance.now() - started;
  globalThis.gc?.();
  const heapMiB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
  return { index, current, revoked, ms, heapMiB };
}

function requestMix(current: string[], revoked: string[]): LoadJob['requests'] {
  const requests: LoadJob['requests'] = [];
  const pick = (list: string[], i: number) => list[(i * 7919) % list.length]!;
  // 100 distinct requests per mix percent point would be plenty; 1,000 spreads the valid ones over
  // 700 different domains.
  for (let i = 0; i < 10; i++) {
    for (let k = 0; k < MIX.valid; k++) requests.push(bearer(pick(current, i * 100 + k)));
    for (let k = 0; k < MIX.unknown; k++) requests.push(bearer(newToken()));
    for (let k = 0; k < MIX.revoked; k++) requests.push(bearer(pick(revoked, i * 100 + k)));
    for (let k = 0; k < MIX.malformed; k++) requests.push(bearer(`sct_${'x'.repeat(40 + k)}`));
    for (let k = 0; k < MIX.missing; k++) requests.push({ path: VERIFY_PATH, headers: {} });
  }
  // Interleave so every stretch of the sequence has the same mix.
  return requests
    .map((r, i) => ({ r, key: (i * 7) % requests.length }))
    .sort((a, b) => a.key - b.key)
    .map((x) => x.r);
}

function bearer(token: string): LoadJob['requests'][number] {
  return { path: VERIFY_PATH, headers: { authorization: `Bearer ${token}` } };
}

function load(job: LoadJob): Promise<LoadResult> {
  const child = fork(path.join(HERE, 'load.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let result: LoadResult | undefined;
    child.once('message', (m) => (result = m as LoadResult));
    child.once('error', reject);
    child.once('exit', (code) =>
      result ? resolve(result) : reject(new Error(`load generator exited with ${code} and no result`)),
    );
    child.send(job);
  });
}

/**
 * The handler's own cost per request, without sockets: fake request/response objects that accept
 * the calls the handler makes. What the verifier adds to any HTTP server, steady even when the
 * machine is busy.
 */
function handlerCostNs(listener: RequestListener, requests: LoadJob['requests'], iterations: number): number {
  const reqs = requests.map((r) => {
    const rawHeaders = ['Host', '127.0.0.1', ...Object.entries(r.headers).flatMap(([k, v]) => [k, v])];
    return { url: r.path, method: 'GET', rawHeaders, headers: {} } as unknown as IncomingMessage;
  });
  const res = {
    headersSent: false,
    writeHead: () => res,
    end: () => res,
  } as unknown as ServerResponse;
  for (let i = 0; i < 20_000; i++) listener(reqs[i % reqs.length]!, res);
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) listener(reqs[i % reqs.length]!, res);
  return Number(process.hrtime.bigint() - started) / iterations;
}

type Measured = LoadResult & { serverCpuUsPerRequest: number };

/**
 * A load run plus the CPU time this process (the servers) spent per request. Throughput depends on
 * the load generator and on whatever else runs on the machine; CPU per request mostly does not, so
 * it is the steadier figure on a busy or small machine.
 */
async function measured(j: LoadJob): Promise<Measured> {
  const before = process.cpuUsage();
  const result = await load(j);
  const used = process.cpuUsage(before);
  return { ...result, serverCpuUsPerRequest: (used.user + used.system) / Math.max(1, result.requests) };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

function summarize(runs: Measured[]) {
  return {
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    serverCpuUsPerRequest: median(runs.map((r) => r.serverCpuUsPerRequest)),
    p50Ms: median(runs.map((r) => r.latencyMs.p50)),
    p90Ms: median(runs.map((r) => r.latencyMs.p90)),
    p99Ms: median(runs.map((r) => r.latencyMs.p99)),
    p999Ms: median(runs.map((r) => r.latencyMs.p999)),
    maxMs: Math.max(...runs.map((r) => r.latencyMs.max)),
    errors: runs.reduce((n, r) => n + r.errors + r.timeouts, 0),
  };
}

async function main(): Promise<void> {
  const loadAtStart = os.loadavg().map((l) => Number(l.toFixed(2)));
  const built = buildIndex();
  process.stdout.write(
    `indexed ${built.index.size} domains (${built.index.revokedSize} revoked fingerprints) in ${built.ms.toFixed(0)} ms\n`,
  );

  const metrics = new Metrics();
  const listener = createVerifierHandler({ index: built.index, isReady: () => true, metrics, log });
  const requests = requestMix(built.current, built.revoked);
  // Unbatched, so each call does its whole work before returning (the server's handler batches).
  const handlerNs = handlerCostNs(
    createVerifierHandler({ index: built.index, isReady: () => true, metrics, log, batch: false }),
    requests,
    500_000,
  );
  process.stdout.write(`handler alone (no sockets): ${(handlerNs / 1000).toFixed(2)} µs per request\n`);
  const verifier = await startVerifierServer({ host: '127.0.0.1', port: 0, tls: undefined, listener, log });
  // The same verifier answering each request as soon as it is parsed (no batching per loop turn).
  const oneByOne = await startVerifierServer({
    host: '127.0.0.1',
    port: 0,
    tls: undefined,
    listener: createVerifierHandler({ index: built.index, isReady: () => true, metrics, log, batch: false }),
    log,
  });
  const bare = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Length': '0' });
    res.end();
  });
  const bareUrl = await listen(bare);
  // The control: what any server spending the verifier's per-request CPU would get, so the cost of
  // the work itself can be told apart from how this machine and load shape amplify it.
  const spinNs = BigInt(Math.round(handlerNs));
  const control = createServer((_req, res) => {
    const until = process.hrtime.bigint() + spinNs;
    while (process.hrtime.bigint() < until) {
      // busy-wait: stands in for the verifier's work
    }
    res.writeHead(200, { 'Content-Length': '0' });
    res.end();
  });
  const controlUrl = args.control ? await listen(control) : undefined;
  const job = (url: string, durationSeconds: number): LoadJob => ({
    url,
    requests,
    connections: CONNECTIONS,
    durationSeconds,
  });

  process.stdout.write(`warm-up: ${WARMUP_S} s each\n`);
  await load(job(bareUrl, WARMUP_S));
  await load(job(verifier.url, WARMUP_S));

  const bareRuns: Measured[] = [];
  const verifyRuns: Measured[] = [];
  const controlRuns: Measured[] = [];
  const oneByOneRuns: Measured[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    bareRuns.push(await measured(job(bareUrl, DURATION_S)));
    verifyRuns.push(await measured(job(verifier.url, DURATION_S)));
    oneByOneRuns.push(await measured(job(oneByOne.url, DURATION_S)));
    if (controlUrl) controlRuns.push(await measured(job(controlUrl, DURATION_S)));
    const [b, v] = [bareRuns.at(-1)!, verifyRuns.at(-1)!];
    process.stdout.write(
      `round ${round}/${ROUNDS}: bare ${b.requestsPerSecond.toFixed(0)} req/s p99 ${b.latencyMs.p99.toFixed(3)} ms ` +
        `${b.serverCpuUsPerRequest.toFixed(1)} µs CPU/req · verify ${v.requestsPerSecond.toFixed(0)} req/s ` +
        `p99 ${v.latencyMs.p99.toFixed(3)} ms ${v.serverCpuUsPerRequest.toFixed(1)} µs CPU/req ${JSON.stringify(v.statusCodes)}` +
        ` · one by one ${oneByOneRuns.at(-1)!.requestsPerSecond.toFixed(0)} req/s` +
        (controlRuns.length > 0
          ? ` · control ${controlRuns.at(-1)!.requestsPerSecond.toFixed(0)} req/s ${controlRuns.at(-1)!.serverCpuUsPerRequest.toFixed(1)} µs CPU/req`
          : '') +
        '\n',
    );
  }
  await verifier.close();
  await oneByOne.close();
  await new Promise((r) => bare.close(r));
  if (controlUrl) await new Promise((r) => control.close(r));

  const bareSummary = summarize(bareRuns);
  const verifySummary = summarize(verifyRuns);
  const ratio = verifySummary.requestsPerSecond / bareSummary.requestsPerSecond;
  // The same ratio taken within each round (bare and verifier loaded one after the other), then the
  // median: drift between rounds on a shared machine cancels out of each pair.
  const roundRatios = verifyRuns.map((v, i) => v.requestsPerSecond / bareRuns[i]!.requestsPerSecond);
  const pairedRatio = median(roundRatios);
  const cpuRatio = bareSummary.serverCpuUsPerRequest / verifySummary.serverCpuUsPerRequest;
  const controlSummary = controlRuns.length > 0 ? summarize(controlRuns) : undefined;
  const oneByOneSummary = summarize(oneByOneRuns);
  const oneByOneRatio = oneByOneSummary.requestsPerSecond / bareSummary.requestsPerSecond;
  const controlRatio = controlSummary
    ? controlSummary.requestsPerSecond / bareSummary.requestsPerSecond
    : undefined;
  const statusCodes: Record<string, number> = {};
  for (const r of verifyRuns) {
    for (const [code, n] of Object.entries(r.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n;
  }
  const total = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  const cpu = os.cpus()[0]?.model ?? 'unknown';
  const result = {
    benchmark: 'verifier',
    date: new Date().toISOString(),
    machine: {
      nproc: os.availableParallelism(),
      cpu,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      // Other work on the machine skews throughput; the load average says how busy it was.
      loadAverage: { start: loadAtStart, end: os.loadavg().map((l) => Number(l.toFixed(2))) },
    },
    settings: {
      domains: DOMAINS,
      connections: CONNECTIONS,
      pipelining: 1,
      durationSeconds: DURATION_S,
      warmupSeconds: WARMUP_S,
      rounds: ROUNDS,
      transport: 'plain HTTP/1.1 over loopback, keep-alive',
      mixPercent: MIX,
      distinctRequests: requests.length,
    },
    index: {
      tokens: built.index.size,
      revokedFingerprints: built.index.revokedSize,
      buildMs: Math.round(built.ms),
      heapMiB: Number(built.heapMiB.toFixed(1)),
    },
    handlerAloneUsPerRequest: Number((handlerNs / 1000).toFixed(3)),
    bare: bareSummary,
    verify: { ...verifySummary, statusCodes, validShare: (statusCodes['200'] ?? 0) / total },
    ratio: Number(ratio.toFixed(3)),
    roundRatios: roundRatios.map((r) => Number(r.toFixed(3))),
    pairedRatio: Number(pairedRatio.toFixed(3)),
    cpuRatio: Number(cpuRatio.toFixed(3)),
    unbatched: { ...oneByOneSummary, ratio: Number(oneByOneRatio.toFixed(3)) },
    ...(controlSummary && controlRatio !== undefined
      ? {
          control: {
            spinUs: Number((handlerNs / 1000).toFixed(3)),
            ...controlSummary,
            ratio: Number(controlRatio.toFixed(3)),
          },
        }
      : {}),
    targets: {
      ratio: { target: TARGET_RATIO, met: ratio >= TARGET_RATIO },
      p99Ms: { target: TARGET_P99_MS, met: verifySummary.p99Ms <= TARGET_P99_MS },
    },
    rounds: { bare: bareRuns, verify: verifyRuns, unbatched: oneByOneRuns, control: controlRuns },
    reproduce: `npm run bench:verify -- --domains ${DOMAINS} --duration ${DURATION_S} --rounds ${ROUNDS} --connections ${CONNECTIONS}`,
  };

  const fmt = (n: number, d = 0) => n.toFixed(d);
  const row = (name: string, x: ReturnType<typeof summarize>) =>
    `| ${name} | ${fmt(x.requestsPerSecond)} | ${fmt(x.serverCpuUsPerRequest, 1)} | ${fmt(x.p50Ms, 3)} | ` +
    `${fmt(x.p90Ms, 3)} | ${fmt(x.p99Ms, 3)} | ${fmt(x.p999Ms, 3)} | ${fmt(x.maxMs, 1)} | ${x.errors} |`;
  const markdown = [
    `### Verifier — ${result.date}`,
    '',
    `${DOMAINS.toLocaleString('en-US')} domains indexed; ${CONNECTIONS} connections, ${ROUNDS} × ${DURATION_S} s per server ` +
      `(medians over rounds); mix ${MIX.valid}% valid / ${MIX.unknown}% unknown / ${MIX.revoked}% revoked / ` +
      `${MIX.malformed}% malformed / ${MIX.missing}% missing. Machine: ${result.machine.nproc} CPUs (${cpu}), Node ${process.version}, load average ${loadAtStart.join(' ')} at start.`,
    '',
    '| server | requests/s | server CPU/request (µs) | p50 (ms) | p90 (ms) | p99 (ms) | p99.9 (ms) | max (ms) | errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    row('bare node:http (200)', bareSummary),
    row('verifier `/v1/verify`', verifySummary),
    row('verifier, each request answered at once (no batching)', oneByOneSummary),
    ...(controlSummary
      ? [row(`control: bare + ${(handlerNs / 1000).toFixed(1)} µs busy-wait`, controlSummary)]
      : []),
    '',
    `| measure | value | target | met |`,
    '| --- | ---: | ---: | :---: |',
    `| ratio verifier / bare (requests/s) | ${ratio.toFixed(3)} | ≥ ${TARGET_RATIO} | ${result.targets.ratio.met ? 'yes' : 'no'} |`,
    `| the same ratio per round (median) | ${pairedRatio.toFixed(3)} (rounds: ${roundRatios.map((r) => r.toFixed(2)).join(', ')}) | | |`,
    `| ratio bare / verifier (server CPU per request) | ${cpuRatio.toFixed(3)} | | |`,
    `| ratio verifier without batching / bare (requests/s) | ${oneByOneRatio.toFixed(3)} | | |`,
    ...(controlRatio !== undefined
      ? [
          `| ratio control / bare (requests/s): any server doing the verifier's work | ${controlRatio.toFixed(3)} | | |`,
        ]
      : []),
    `| verifier p99 | ${verifySummary.p99Ms.toFixed(3)} ms | ≤ ${TARGET_P99_MS} ms | ${result.targets.p99Ms.met ? 'yes' : 'no'} |`,
    `| verifier handler alone, no sockets (mix above) | ${(handlerNs / 1000).toFixed(2)} µs/request | | |`,
    `| index of ${DOMAINS.toLocaleString('en-US')} domains: build time / heap | ${result.index.buildMs} ms / ${result.index.heapMiB} MiB | | |`,
    '',
    `Answers: ${Object.entries(statusCodes)
      .map(([c, n]) => `${c}: ${((n / total) * 100).toFixed(1)}%`)
      .join(', ')}. Reproduce: \`${result.reproduce}\`.`,
    '',
  ].join('\n');

  mkdirSync(args.out, { recursive: true });
  const stamp = result.date.replace(/[:.]/g, '-');
  const base = path.join(args.out, `${stamp}-verify`);
  writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(`${base}.md`, markdown);
  process.stdout.write(`\n${markdown}\nwrote ${base}.json and ${base}.md\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench:verify failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
