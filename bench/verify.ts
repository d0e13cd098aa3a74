// SPEC §6 "verifier": requests/s and latency of GET /v1/verify with 10,000 domains indexed, as a ratio
// to a bare node:http server answering 200 in the same run, loaded the same way (issue #16: ratio
// ≥ 0.90 over ≥ 5 interleaved rounds, with a load generator that is not itself the bottleneck; p99
// ≤ 2 ms).
//
//   npm run bench:verify                       # defaults below: wrk and autocannon, 5 rounds × 10 s
//   npm run bench:verify -- --duration 5 --rounds 1 --domains 1000
//   npm run bench:verify -- --generators autocannon --pin none
//
// The index is filled in-process (building 10,000 real ScimDomains is the issuance benchmark's job);
// the request handler, server, metrics and token checks are the production ones. Both servers run in
// this process, one at a time under load; the load comes from another process over loopback: wrk
// (bench/wrk.ts, C, the headline figures) and autocannon (bench/load.ts, Node, the figures of earlier
// runs). Without wrk installed the benchmark says how to install it and exits 2.
//
// Pinning (`--pin`, default `auto` on two or more CPUs): this process — the servers — runs on the last
// CPU, the load generator on the others, so the two never take CPU time from each other; on a 2-CPU
// machine each has one. Whatever else runs on the machine is not pinned, so the load average is
// recorded with the figures.
//
// Rounds: each round loads bare and verifier one after the other with each generator, in ABBA order
// (odd rounds bare → verifier, even rounds verifier → bare), so drift during a round hits both alike.
// The ratio of a round is verifier/bare requests/s of that pair; the headline ratio is the median of
// wrk's per-round ratios. The CPU time of the servers and of the load generator is measured per run:
// a generator near 100 % of its CPUs is the bottleneck, and then the ratio says little.
//
// Writes bench/results/<timestamp>-verify.json and .md (bench/run.ts reads the JSON's settings.domains,
// bare, verify, ratio and targets). A benchmark, not a test: it reports whether the targets are met and
// exits 0 unless it could not run.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
import { VERIFY_PATH, createVerifierHandler, grantHeaders } from '../src/verifier/handler.js';
import { startVerifierServer } from '../src/verifier/server.js';
import { TokenIndex } from '../src/verifier/token-index.js';
import type { LoadJob, LoadResult } from './load.js';
import { WRK_INSTALL_HINT, runWrk, writeWrkScript, wrkVersion } from './wrk.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');

const { values: args } = parseArgs({
  options: {
    domains: { type: 'string', default: '10000' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
    // wrk threads; default one per CPU the load generator has.
    threads: { type: 'string' },
    generators: { type: 'string', default: 'wrk,autocannon' },
    // auto | none | <server CPUs>:<generator CPUs> (taskset lists, e.g. 1:0)
    pin: { type: 'string', default: 'auto' },
    // Nice value of the servers and the load generator (e.g. -10, as root): on a machine shared with
    // other work, a higher priority keeps that work from taking CPU time from one run but not another.
    nice: { type: 'string', default: '0' },
    // Three more servers per round (headline generator only): the verifier answering each request at
    // once (no batching); the bare server plus a busy-wait as long as the verifier handler's cost; and
    // a server answering with the verifier's response shapes (headers, 401 bodies) without its work.
    extra: { type: 'boolean', default: false },
    out: { type: 'string', default: path.join(ROOT, 'bench/results') },
  },
});
const DOMAINS = Number(args.domains);
const DURATION_S = Number(args.duration);
const WARMUP_S = Number(args.warmup);
const ROUNDS = Number(args.rounds);
const CONNECTIONS = Number(args.connections);
const NICE = Number(args.nice);

const TARGET_RATIO = 0.9;
const TARGET_P99_MS = 2;

type Generator = 'wrk' | 'autocannon';
const GENERATORS = args.generators.split(',').map((g): Generator => {
  const name = g.trim();
  if (name !== 'wrk' && name !== 'autocannon') throw new Error(`--generators: unknown generator ${name}`);
  return name;
});
/** The generator of the headline figures: wrk when it runs. */
const HEADLINE: Generator = GENERATORS.includes('wrk') ? 'wrk' : GENERATORS[0]!;

// The request mix: mostly the tokens of real domains, with every kind of rejection in it.
const MIX = { valid: 70, unknown: 10, revoked: 10, malformed: 5, missing: 5 } as const;
const EXPECTED_REJECTED_SHARE = (100 - MIX.valid) / 100;

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

// --- CPU pinning -------------------------------------------------------------------------------

interface Pinning {
  /** taskset CPU list of this process (the servers). */
  server: string;
  /** taskset CPU list of the load generator. */
  generator: string;
  cpusForGenerator: number;
}

/** The CPUs this process may run on, from `taskset -p` (e.g. "0-3,6" → [0, 1, 2, 3, 6]). */
function allowedCpus(): number[] | undefined {
  const probe = spawnSync('taskset', ['--cpu-list', '--pid', String(process.pid)], { encoding: 'utf8' });
  const list = /:\s*([\d,-]+)\s*$/.exec(probe.stdout ?? '')?.[1];
  if (probe.error || list === undefined) return undefined;
  return list.split(',').flatMap((part) => {
    const [a, b] = part.split('-').map(Number) as [number, number | undefined];
    return Array.from({ length: (b ?? a) - a + 1 }, (_, k) => a + k);
  });
}

function choosePinning(option: string): Pinning | undefined {
  if (option === 'none') return undefined;
  let server: string;
  let generator: string;
  if (option === 'auto') {
    const cpus = allowedCpus();
    if (cpus === undefined || cpus.length < 2) return undefined;
    server = String(cpus.at(-1));
    generator = cpus.slice(0, -1).join(',');
  } else {
    const m = /^([\d,-]+):([\d,-]+)$/.exec(option);
    if (!m) throw new Error(`--pin: expected auto, none or <server CPUs>:<generator CPUs>, got ${option}`);
    [server, generator] = [m[1]!, m[2]!];
  }
  // -a: every thread of this process (V8's and libuv's too), not only the main one.
  const pinned = spawnSync('taskset', ['--all-tasks', '--cpu-list', '--pid', server, String(process.pid)], {
    encoding: 'utf8',
  });
  if (pinned.error || pinned.status !== 0) {
    throw new Error(`--pin: taskset failed: ${pinned.error?.message ?? pinned.stderr}`);
  }
  const cpusForGenerator = generator
    .split(',')
    .map((part) => part.split('-').map(Number))
    .reduce((n, [a, b]) => n + (b ?? a!) - a! + 1, 0);
  return { server, generator, cpusForGenerator };
}

/**
 * Sets the nice value of every thread of this process (Linux keeps one per thread), and of its
 * scheduler autogroup: with autogroups on (`kernel.sched_autogroup_enabled`, the default of most
 * distributions) the CPU is shared between sessions first, and a nice value only counts within its
 * session. `runInOwnSession` has made this process's session its own, so nothing else gets it.
 */
function setOwnPriority(nice: number): void {
  for (const tid of readdirSync('/proc/self/task')) os.setPriority(Number(tid), nice);
  try {
    writeFileSync('/proc/self/autogroup', String(nice));
  } catch (err) {
    process.stderr.write(`--nice: the session's autogroup keeps its priority (${String(err)})\n`);
  }
}

const SESSION_ENV = 'SCIM_BENCH_VERIFY_SESSION';

/**
 * With `--nice`, runs this benchmark again in a session of its own (`setsid`), so that raising the
 * session's priority raises only the benchmark's; returns false in that new session.
 */
async function runInOwnSession(): Promise<boolean> {
  if (NICE === 0 || process.env[SESSION_ENV] === '1') return false;
  const child = spawn('setsid', ['--wait', process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [SESSION_ENV]: '1' },
  });
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
  process.exit(code);
}

// --- load generators ---------------------------------------------------------------------------

/** autocannon in a child process (bench/load.ts), under `prefix` (nice, taskset). */
function autocannonLoad(job: LoadJob, prefix: readonly string[]): Promise<LoadResult> {
  const [command, ...rest] = [...prefix, process.execPath, '--import', 'tsx', path.join(HERE, 'load.ts')];
  // spawn with an IPC channel: nice and taskset exec node, which finds the channel as fork() would
  // have set it up.
  const child = spawn(command, rest, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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
 * The handler's own CPU time per request, without sockets: fake request/response objects that accept
 * the calls the handler makes (so Node's own header formatting is not in it). What the verifier adds
 * to any HTTP server, steady even when the machine is busy.
 */
function handlerCostNs(listener: RequestListener, requests: LoadJob['requests'], iterations: number): number {
  // Flat strings, as node:http's parser hands them over (a template literal would be a cons string,
  // slower to read character by character).
  const flat = (s: string) => Buffer.from(s, 'latin1').toString('latin1');
  const reqs = requests.map((r) => {
    const rawHeaders = ['Host', '127.0.0.1', ...Object.entries(r.headers).flatMap(([k, v]) => [k, flat(v)])];
    return { url: r.path, method: 'GET', rawHeaders, headers: {} } as unknown as IncomingMessage;
  });
  const res = {
    headersSent: false,
    socket: null,
    writeHead: () => res,
    write: () => true,
    end: () => res,
  } as unknown as ServerResponse;
  for (let i = 0; i < 20_000; i++) listener(reqs[i % reqs.length]!, res);
  // CPU time, not wall time: on a shared machine the process is not always running.
  const started = process.cpuUsage();
  for (let i = 0; i < iterations; i++) listener(reqs[i % reqs.length]!, res);
  const used = process.cpuUsage(started);
  return ((used.user + used.system) * 1000) / iterations;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const r3 = (n: number) => Number(n.toFixed(3));
const r1 = (n: number) => Number(n.toFixed(1));

type ServerName = 'bare' | 'verify' | 'unbatched' | 'control' | 'shape';
const EXTRAS = ['unbatched', 'control', 'shape'] as const;

/** One load run against one server, with the CPU both sides used. */
interface Run {
  round: number;
  generator: Generator;
  server: ServerName;
  requests: number;
  requestsPerSecond: number;
  latencyMs: LoadResult['latencyMs'];
  statusCodes: Record<string, number>;
  /** Share of answers that were not 2xx (the verifier's 401s). */
  rejectedShare: number;
  errors: number;
  /** CPU time of this process (the servers) per request. */
  serverCpuUsPerRequest: number;
  /** CPU time of this process over the run, in % of one CPU. */
  serverCpuPercent: number;
  /** CPU time of the load generator over the run, in % of one CPU. */
  generatorCpuPercent: number | undefined;
}

function summarize(runs: Run[]) {
  const generatorCpu = runs.map((r) => r.generatorCpuPercent).filter((x) => x !== undefined);
  return {
    requestsPerSecond: Math.round(median(runs.map((r) => r.requestsPerSecond))),
    p50Ms: r3(median(runs.map((r) => r.latencyMs.p50))),
    p90Ms: r3(median(runs.map((r) => r.latencyMs.p90))),
    p99Ms: r3(median(runs.map((r) => r.latencyMs.p99))),
    p999Ms: r3(median(runs.map((r) => r.latencyMs.p999))),
    maxMs: r3(Math.max(...runs.map((r) => r.latencyMs.max))),
    serverCpuUsPerRequest: r1(median(runs.map((r) => r.serverCpuUsPerRequest))),
    serverCpuPercent: r1(median(runs.map((r) => r.serverCpuPercent))),
    generatorCpuPercent: generatorCpu.length > 0 ? r1(median(generatorCpu)) : undefined,
    rejectedShare: r3(median(runs.map((r) => r.rejectedShare))),
    errors: runs.reduce((n, r) => n + r.errors, 0),
  };
}

type Summary = ReturnType<typeof summarize>;

interface GeneratorFigures {
  bare: Summary;
  verify: Summary;
  unbatched?: Summary;
  control?: Summary;
  shape?: Summary;
  /** Median of the per-round ratios (verifier / bare requests/s within each round). */
  ratio: number;
  roundRatios: number[];
  /** Ratio of the medians over rounds (the headline of the runs before issue #16). */
  ratioOfMedians: number;
  /** Bare / verifier server CPU per request. */
  cpuRatio: number;
  /** Median over rounds of each extra server's requests/s over the same round's bare server. */
  extraRatios: Partial<Record<ServerName, number>>;
}

async function main(): Promise<void> {
  if (await runInOwnSession()) return;
  const wrk = GENERATORS.includes('wrk') ? wrkVersion() : undefined;
  if (GENERATORS.includes('wrk') && wrk === undefined) {
    process.stderr.write(`bench:verify: ${WRK_INSTALL_HINT}\n`);
    process.exit(2);
  }
  // Before pinning: availableParallelism() then counts only the CPUs this process may use.
  const nproc = os.availableParallelism();
  const pinning = choosePinning(args.pin);
  if (NICE !== 0) setOwnPriority(NICE);
  const threads = Number(args.threads ?? pinning?.cpusForGenerator ?? 1);
  process.stdout.write(
    pinning
      ? `pinned: servers on CPU ${pinning.server}, load generator on CPU ${pinning.generator}\n`
      : 'not pinned: servers and load generator share every CPU\n',
  );
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
  const bare = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Length': '0' });
    res.end();
  });
  const urls: Partial<Record<ServerName, string>> = { bare: await listen(bare), verify: verifier.url };
  const closers: (() => Promise<unknown>)[] = [
    () => verifier.close(),
    () => new Promise((r) => bare.close(r)),
  ];
  if (args.extra) {
    // The same verifier answering each request as soon as it is parsed (no batching per loop turn).
    const oneByOne = await startVerifierServer({
      host: '127.0.0.1',
      port: 0,
      tls: undefined,
      listener: createVerifierHandler({
        index: built.index,
        isReady: () => true,
        metrics,
        log,
        batch: false,
      }),
      log,
    });
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
    // The shapes: what any node:http server answering with the verifier's responses gets — 7 in 10
    // a 200 with a grant's headers, the rest a 401 with its JSON body — with no token to check.
    const grant = grantHeaders({
      domain: 'customer-1.example.com',
      ref: 'tenant-1/domain-1',
      sendEmailInvitations: true,
      identityProvider: 'Okta',
      tokenId: 'tok-0123456789',
    });
    const rejection = {
      body: '{"reason":"unknown"}',
      headers: [
        ['Cache-Control', 'no-store'],
        ['X-Content-Type-Options', 'nosniff'],
        ['Content-Type', 'application/json'],
        ['Content-Length', '20'],
        ['WWW-Authenticate', 'Bearer realm="scim", error="invalid_token"'],
      ].flat(),
    };
    let answered = 0;
    const shape = createServer((_req, res) => {
      if (answered++ % 10 < MIX.valid / 10) {
        res.writeHead(200, grant);
        res.end();
      } else {
        res.writeHead(401, rejection.headers);
        res.end(rejection.body, 'latin1');
      }
    });
    urls.unbatched = oneByOne.url;
    urls.control = await listen(control);
    urls.shape = await listen(shape);
    closers.push(
      () => oneByOne.close(),
      () => new Promise((r) => control.close(r)),
      () => new Promise((r) => shape.close(r)),
    );
  }

  const scratch = mkdtempSync(path.join(os.tmpdir(), 'scim-bench-verify-'));
  const script = writeWrkScript(path.join(scratch, 'verify.lua'), requests);
  // The load generator's launcher: on its own CPUs; it inherits the priority of this process.
  const prefix = pinning ? ['taskset', '--cpu-list', pinning.generator] : [];

  const load = async (generator: Generator, server: ServerName, seconds: number, round: number) => {
    const job: LoadJob = { url: urls[server]!, requests, connections: CONNECTIONS, durationSeconds: seconds };
    const before = process.cpuUsage();
    const result =
      generator === 'wrk'
        ? await runWrk({ ...job, script, threads, prefix })
        : await autocannonLoad(job, prefix);
    const used = process.cpuUsage(before);
    const serverCpuMs = (used.user + used.system) / 1000;
    const answered = Object.values(result.statusCodes).reduce((a, b) => a + b, 0);
    const ok = Object.entries(result.statusCodes)
      .filter(([code]) => code.startsWith('2'))
      .reduce((n, [, c]) => n + c, 0);
    const run: Run = {
      round,
      generator,
      server,
      requests: result.requests,
      requestsPerSecond: result.requestsPerSecond,
      latencyMs: result.latencyMs,
      statusCodes: result.statusCodes,
      rejectedShare: answered > 0 ? r3(1 - ok / answered) : NaN,
      errors: result.errors + result.timeouts,
      serverCpuUsPerRequest: r1((serverCpuMs * 1000) / Math.max(1, result.requests)),
      serverCpuPercent: r1((serverCpuMs / (result.durationSeconds * 1000)) * 100),
      generatorCpuPercent:
        result.generatorCpuMs === undefined
          ? undefined
          : r1((result.generatorCpuMs / (result.durationSeconds * 1000)) * 100),
    };
    return run;
  };

  process.stdout.write(`warm-up: ${WARMUP_S} s per server and generator\n`);
  for (const g of GENERATORS) {
    for (const server of Object.keys(urls) as ServerName[]) await load(g, server, WARMUP_S, 0);
  }

  const runs: Run[] = [];
  const rounds: {
    round: number;
    generator: Generator;
    order: string;
    bareRps: number;
    verifyRps: number;
    ratio: number;
    bareP99Ms: number;
    verifyP99Ms: number;
    serverCpuPercent: { bare: number; verify: number };
    generatorCpuPercent: { bare: number | undefined; verify: number | undefined };
    extraRatios?: Partial<Record<ServerName, number>>;
  }[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    // ABBA: odd rounds bare first, even rounds verifier first.
    const order: ServerName[] = round % 2 === 1 ? ['bare', 'verify'] : ['verify', 'bare'];
    for (const g of GENERATORS) {
      const pair: Partial<Record<ServerName, Run>> = {};
      for (const server of order) runs.push((pair[server] = await load(g, server, DURATION_S, round)));
      if (g === HEADLINE) {
        for (const server of EXTRAS) {
          if (urls[server]) runs.push((pair[server] = await load(g, server, DURATION_S, round)));
        }
      }
      const [b, v] = [pair.bare!, pair.verify!];
      const ratio = v.requestsPerSecond / b.requestsPerSecond;
      // The extra servers against the same round's bare server.
      const extraRatios: Partial<Record<ServerName, number>> = {};
      for (const server of EXTRAS) {
        const x = pair[server];
        if (x) extraRatios[server] = r3(x.requestsPerSecond / b.requestsPerSecond);
      }
      rounds.push({
        round,
        generator: g,
        order: order.join(' → '),
        bareRps: Math.round(b.requestsPerSecond),
        verifyRps: Math.round(v.requestsPerSecond),
        ratio: r3(ratio),
        bareP99Ms: r3(b.latencyMs.p99),
        verifyP99Ms: r3(v.latencyMs.p99),
        serverCpuPercent: { bare: b.serverCpuPercent, verify: v.serverCpuPercent },
        generatorCpuPercent: { bare: b.generatorCpuPercent, verify: v.generatorCpuPercent },
        ...(Object.keys(extraRatios).length > 0 ? { extraRatios } : {}),
      });
      const pct = (x: number | undefined) => (x === undefined ? '?' : `${x.toFixed(0)}%`);
      process.stdout.write(
        `round ${round}/${ROUNDS} ${g.padEnd(10)} ${order.join('→')}: ` +
          `bare ${b.requestsPerSecond.toFixed(0)} req/s p99 ${b.latencyMs.p99.toFixed(3)} ms · ` +
          `verify ${v.requestsPerSecond.toFixed(0)} req/s p99 ${v.latencyMs.p99.toFixed(3)} ms · ratio ${ratio.toFixed(3)} · ` +
          `CPU server ${pct(b.serverCpuPercent)}/${pct(v.serverCpuPercent)} generator ${pct(b.generatorCpuPercent)}/${pct(v.generatorCpuPercent)}\n`,
      );
    }
  }
  for (const close of closers) await close();
  rmSync(scratch, { recursive: true, force: true });

  const byGenerator = {} as Record<Generator, GeneratorFigures>;
  for (const g of GENERATORS) {
    const of = (server: ServerName) => runs.filter((r) => r.generator === g && r.server === server);
    const roundRatios = rounds.filter((r) => r.generator === g).map((r) => r.ratio);
    const bareSummary = summarize(of('bare'));
    const verifySummary = summarize(of('verify'));
    byGenerator[g] = {
      bare: bareSummary,
      verify: verifySummary,
      ...(of('unbatched').length > 0 ? { unbatched: summarize(of('unbatched')) } : {}),
      ...(of('control').length > 0 ? { control: summarize(of('control')) } : {}),
      ...(of('shape').length > 0 ? { shape: summarize(of('shape')) } : {}),
      ratio: r3(median(roundRatios)),
      roundRatios,
      ratioOfMedians: r3(verifySummary.requestsPerSecond / bareSummary.requestsPerSecond),
      cpuRatio: r3(bareSummary.serverCpuUsPerRequest / verifySummary.serverCpuUsPerRequest),
      extraRatios: Object.fromEntries(
        EXTRAS.flatMap((server) => {
          const xs = rounds.flatMap((r) => (r.generator === g ? (r.extraRatios?.[server] ?? []) : []));
          return xs.length > 0 ? [[server, r3(median(xs))]] : [];
        }),
      ),
    };
  }
  const head = byGenerator[HEADLINE];

  const loadAtEnd = os.loadavg().map((l) => Number(l.toFixed(2)));
  const cpu = os.cpus()[0]?.model ?? 'unknown';
  const reproduce =
    `npm run bench:verify -- --domains ${DOMAINS} --duration ${DURATION_S} --rounds ${ROUNDS} ` +
    `--connections ${CONNECTIONS} --generators ${GENERATORS.join(',')} --pin ${args.pin}` +
    (args.threads ? ` --threads ${threads}` : '') +
    (NICE !== 0 ? ` --nice=${NICE}` : '') +
    (args.extra ? ' --extra' : '');
  const result = {
    benchmark: 'verifier',
    date: new Date().toISOString(),
    machine: {
      nproc,
      cpu,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      // Other work on the machine skews throughput; the load average says how busy it was.
      loadAverage: { start: loadAtStart, end: loadAtEnd },
    },
    settings: {
      domains: DOMAINS,
      connections: CONNECTIONS,
      pipelining: 1,
      durationSeconds: DURATION_S,
      warmupSeconds: WARMUP_S,
      rounds: ROUNDS,
      order: 'ABBA: odd rounds bare → verifier, even rounds verifier → bare',
      generators: GENERATORS,
      headlineGenerator: HEADLINE,
      wrk: wrk === undefined ? undefined : { version: wrk, threads },
      pinning: pinning
        ? { serverCpus: pinning.server, generatorCpus: pinning.generator }
        : 'none: servers and generator share every CPU',
      nice: NICE,
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
    handlerAloneUsPerRequest: r3(handlerNs / 1000),
    // The headline generator's figures (medians over rounds); bench/run.ts reads these.
    bare: head.bare,
    verify: head.verify,
    ratio: head.ratio,
    generators: byGenerator,
    targets: {
      ratio: { target: TARGET_RATIO, met: head.ratio >= TARGET_RATIO },
      p99Ms: { target: TARGET_P99_MS, met: head.verify.p99Ms <= TARGET_P99_MS },
    },
    rounds,
    runs,
    reproduce,
  };

  const n0 = (n: number) => Math.round(n).toLocaleString('en-US');
  const pct = (x: number | undefined) => (x === undefined ? '–' : `${x.toFixed(0)} %`);
  const serverRow = (name: string, x: Summary) =>
    `| ${name} | ${n0(x.requestsPerSecond)} | ${x.p50Ms.toFixed(3)} | ${x.p90Ms.toFixed(3)} | ` +
    `${x.p99Ms.toFixed(3)} | ${x.p999Ms.toFixed(3)} | ${x.serverCpuUsPerRequest.toFixed(1)} | ` +
    `${pct(x.serverCpuPercent)} | ${pct(x.generatorCpuPercent)} | ${(x.rejectedShare * 100).toFixed(1)} % | ${x.errors} |`;
  const generatorTables = GENERATORS.flatMap((g) => {
    const x = byGenerator[g];
    return [
      `**${g}**${g === 'wrk' ? ` (${wrk}, ${threads} thread${threads === 1 ? '' : 's'})` : ' (bench/load.ts, Node)'}: ` +
        `ratio ${x.ratio.toFixed(3)} (median of the rounds; ratio of the medians ${x.ratioOfMedians.toFixed(3)})`,
      '',
      '| server | requests/s | p50 (ms) | p90 (ms) | p99 (ms) | p99.9 (ms) | server CPU/request (µs) | server CPU | generator CPU | non-2xx | errors |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      serverRow('bare node:http (200)', x.bare),
      serverRow('verifier `/v1/verify`', x.verify),
      ...(x.unbatched ? [serverRow('verifier, no batching', x.unbatched)] : []),
      ...(x.control
        ? [serverRow(`control: bare + ${(handlerNs / 1000).toFixed(1)} µs busy-wait`, x.control)]
        : []),
      ...(x.shape ? [serverRow("shapes: the verifier's responses, no token work", x.shape)] : []),
      '',
      ...(Object.keys(x.extraRatios).length > 0
        ? [
            `Against the same round's bare server (median of the rounds): ${Object.entries(x.extraRatios)
              .map(([server, ratio]) => `${server} ${ratio.toFixed(3)}`)
              .join(', ')}.`,
            '',
          ]
        : []),
    ];
  });
  const roundHeader = GENERATORS.map((g) => `${g} bare | ${g} verifier | ${g} ratio`).join(' | ');
  const roundRows = Array.from({ length: ROUNDS }, (_, i) => {
    const cells = GENERATORS.map((g) => {
      const r = rounds.find((x) => x.round === i + 1 && x.generator === g)!;
      return `${n0(r.bareRps)} | ${n0(r.verifyRps)} | ${r.ratio.toFixed(3)}`;
    });
    return `| ${i + 1} | ${rounds.find((x) => x.round === i + 1)!.order} | ${cells.join(' | ')} |`;
  });
  const markdown = [
    `### Verifier — ${result.date}`,
    '',
    `${DOMAINS.toLocaleString('en-US')} domains indexed; ${CONNECTIONS} connections, ${ROUNDS} rounds × ${DURATION_S} s per ` +
      `server and generator, ABBA order; mix ${MIX.valid}% valid / ${MIX.unknown}% unknown / ${MIX.revoked}% revoked / ` +
      `${MIX.malformed}% malformed / ${MIX.missing}% missing. ` +
      (pinning
        ? `Pinned: servers on CPU ${pinning.server}, load generator on CPU ${pinning.generator}. `
        : 'Not pinned. ') +
      (NICE !== 0 ? `Servers and load generator at nice ${NICE}. ` : '') +
      `Machine: ${result.machine.nproc} CPUs (${cpu}), Node ${process.version}, load average ${loadAtStart.join(' ')} at start, ` +
      `${loadAtEnd.join(' ')} at the end. CPU columns: % of one CPU over the run (medians).`,
    '',
    ...generatorTables,
    `| round | order | ${roundHeader} |`,
    `| ---: | --- | ${GENERATORS.map(() => '---: | ---: | ---:').join(' | ')} |`,
    ...roundRows,
    '',
    `| measure | value | target | met |`,
    '| --- | ---: | ---: | :---: |',
    `| ratio verifier / bare, ${HEADLINE} (median of ${ROUNDS} rounds) | ${head.ratio.toFixed(3)} | ≥ ${TARGET_RATIO} | ${result.targets.ratio.met ? 'yes' : 'no'} |`,
    `| verifier p99, ${HEADLINE} (median of rounds) | ${head.verify.p99Ms.toFixed(3)} ms | ≤ ${TARGET_P99_MS} ms | ${result.targets.p99Ms.met ? 'yes' : 'no'} |`,
    `| verifier handler alone, no sockets (mix above) | ${(handlerNs / 1000).toFixed(2)} µs/request | | |`,
    `| index of ${DOMAINS.toLocaleString('en-US')} domains: build time / heap | ${result.index.buildMs} ms / ${result.index.heapMiB} MiB | | |`,
    '',
    `Expected non-2xx share of the verifier: ${(EXPECTED_REJECTED_SHARE * 100).toFixed(0)} % (401s of the mix). ` +
      `Reproduce: \`${reproduce}\`.`,
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
