// Load generator for bench/verify.ts, run as a separate process so it does not share an event loop
// (or a CPU: bench/verify.ts pins it apart from the servers) with the servers it measures. Uses
// autocannon (the other generator is wrk, bench/wrk.ts); adds
// exact per-request latencies, because autocannon's own histogram has whole-millisecond resolution
// and a hash lookup answers in a fraction of one.
//
// Protocol: the parent sends one LoadJob over IPC; this process answers with one LoadResult and exits.
import autocannon from 'autocannon';

export interface LoadJob {
  url: string;
  /** Headers of each request, cycled through in order on every connection. */
  requests: { path: string; headers: Record<string, string> }[];
  connections: number;
  durationSeconds: number;
}

export interface LoadResult {
  requests: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
  /** autocannon's own figures (whole ms), for comparison; only from autocannon. */
  autocannon?: { p50: number; p99: number; averageRps: number };
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
  /** CPU time the load generator itself used (user + system), when known. */
  generatorCpuMs?: number;
  /** How long the load ran. */
  durationSeconds: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

async function run(job: LoadJob): Promise<LoadResult> {
  const cpuBefore = process.cpuUsage();
  let latencies = new Float64Array(1 << 20);
  let n = 0;
  let finish: (r: autocannon.Result) => void = () => undefined;
  let fail: (e: unknown) => void = () => undefined;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  // The callback form returns the running instance, whose 'response' events carry exact latencies.
  const instance = autocannon(
    {
      url: job.url,
      connections: job.connections,
      duration: job.durationSeconds,
      pipelining: 1,
      requests: job.requests.map((r) => ({ method: 'GET' as const, path: r.path, headers: r.headers })),
    },
    (err: unknown, result: autocannon.Result) => (err ? fail(err) : finish(result)),
  );
  instance.on('response', (_client, _status, _bytes, responseTime) => {
    if (n === latencies.length) {
      const bigger = new Float64Array(latencies.length * 2);
      bigger.set(latencies);
      latencies = bigger;
    }
    latencies[n++] = responseTime;
  });
  const result = await done;
  const cpu = process.cpuUsage(cpuBefore);
  const sorted = latencies.subarray(0, n).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {}))
    statusCodes[code] = count ?? 0;
  return {
    requests: n,
    requestsPerSecond: n / result.duration,
    latencyMs: {
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      p999: percentile(sorted, 99.9),
      max: n > 0 ? sorted[n - 1]! : NaN,
      mean: n > 0 ? sum / n : NaN,
    },
    autocannon: { p50: result.latency.p50, p99: result.latency.p99, averageRps: result.requests.average },
    statusCodes,
    errors: result.errors,
    timeouts: result.timeouts,
    generatorCpuMs: (cpu.user + cpu.system) / 1000,
    durationSeconds: result.duration,
  };
}

process.once('message', (job: LoadJob) => {
  run(job).then(
    (result) => process.send?.(result, () => process.exit(0)),
    (err: unknown) => {
      process.stderr.write(`load generator failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
});
