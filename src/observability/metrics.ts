// Prometheus metrics of the operator and the verifier (SPEC §5 "Metrics"): their names, labels and
// buckets, one registry per `Metrics` instance, and typed recording methods.
//
// Each instance owns its Registry instead of using prom-client's global one, so tests (and two
// operators in one process) never see each other's samples or fail on duplicate registration.
//
// Labels never carry token material (SPEC §2.1): label values are enums typed below, Kubernetes object
// names (which cannot contain a token: no uppercase, no `_`) or short identifiers checked by
// `identifierLabel`. Anything else is recorded as "invalid" rather than exported.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const RECONCILE_RESULTS = ['success', 'error', 'requeue'] as const;
export type ReconcileResult = (typeof RECONCILE_RESULTS)[number];

export const ROTATION_TRIGGERS = ['manual', 'schedule'] as const;
export type RotationTrigger = (typeof ROTATION_TRIGGERS)[number];

export const ROTATION_RESULTS = ['rotated', 'skipped', 'failed'] as const;
export type RotationResult = (typeof ROTATION_RESULTS)[number];

export const VERIFY_RESULTS = ['valid', 'missing', 'malformed', 'unknown', 'revoked', 'error'] as const;
export type VerifyResult = (typeof VERIFY_RESULTS)[number];

/** When the current token of one ScimDomain was issued (its `status.token.issuedAt`). */
export interface TokenIssue {
  readonly namespace: string;
  readonly name: string;
  readonly issuedAt: Date;
}

export type TokenSource = () => Iterable<TokenIssue>;

// Narrow views of the prom-client metrics: callers get inc/set/startTimer with typed labels, and every
// free-form label value passes `identifierLabel` on its way in.
export interface ReconcileTotal {
  inc(labels: { controller: string; result: ReconcileResult }): void;
}
export interface ReconcileDuration {
  observe(labels: { controller: string }, seconds: number): void;
  /** Returns the function that ends the timer and records the elapsed seconds. */
  startTimer(labels: { controller: string }): () => number;
}
export interface ReconcileErrors {
  inc(labels: { controller: string; reason: string }): void;
}
export interface WorkqueueDepth {
  set(labels: { queue: string }, depth: number): void;
}

export interface MetricsOptions {
  /** Current time for token ages; default the wall clock. */
  clock?: () => Date;
  /** Read at every scrape; may also be set later with `setTokenAgeSource` (the index comes up after us). */
  tokens?: TokenSource;
  /** Process and Node.js runtime metrics (prom-client defaults); default true. */
  defaultMetrics?: boolean;
}

// Reconciles are API round trips: milliseconds to tens of seconds when the API server is slow.
const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
// A verification is an in-memory hash lookup, typically tens of microseconds; SPEC §6 measures p99.
const VERIFY_BUCKETS = [
  0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
];

export const INVALID_LABEL = 'invalid';

const VERIFY_RESULT_INDEX = Object.fromEntries(VERIFY_RESULTS.map((r, i) => [r, i])) as Record<
  VerifyResult,
  number
>;

/**
 * Request counts and latency buckets of the verifier, by result, in typed arrays. The verifier records
 * every request, and prom-client's own `observe` (label validation, a label hash, number-keyed bucket
 * properties) costs about a microsecond — as much as the SHA-256 of the token. Here a request costs a
 * bucket search over 14 bounds and three array increments; prom-client formats the totals at scrape.
 */
export class VerifyCounts {
  readonly bounds: readonly number[] = VERIFY_BUCKETS;
  // Per result: one count per bound plus one above the last (le="+Inf" only).
  private readonly buckets = new Float64Array(VERIFY_RESULTS.length * (VERIFY_BUCKETS.length + 1));
  private readonly sums = new Float64Array(VERIFY_RESULTS.length);
  private readonly counts = new Float64Array(VERIFY_RESULTS.length);

  record(result: number, seconds: number): void {
    const bounds = this.bounds;
    let b = 0;
    while (b < bounds.length && seconds > bounds[b]!) b++;
    this.buckets[result * (bounds.length + 1) + b]! += 1;
    this.sums[result]! += Number.isFinite(seconds) ? seconds : 0;
    this.counts[result]! += 1;
  }

  count(result: number): number {
    return this.counts[result]!;
  }

  sum(result: number): number {
    return this.sums[result]!;
  }

  /** Cumulative count of requests of `result` that took at most `bounds[bound]` seconds. */
  cumulative(result: number, bound: number): number {
    let n = 0;
    const base = result * (this.bounds.length + 1);
    for (let b = 0; b <= bound; b++) n += this.buckets[base + b]!;
    return n;
  }
}

type HistogramData = Awaited<ReturnType<Histogram<'result' | 'le'>['get']>>;

/**
 * A prom-client Histogram whose samples come from a VerifyCounts instead of its own observe(): it is
 * registered, rendered and typed like any prom-client histogram (`_bucket{le,result}`, `_sum`,
 * `_count`), but nothing calls observe() on it.
 */
class CountedHistogram extends Histogram<'result' | 'le'> {
  constructor(
    private readonly metricName: string,
    private readonly help: string,
    private readonly counts: VerifyCounts,
    registers: Registry[],
  ) {
    super({ name: metricName, help, labelNames: ['result'], buckets: [...counts.bounds], registers });
  }

  override get(): Promise<HistogramData> {
    // prom-client's Histogram sets `type` ('histogram') at runtime; its typings only know the enum.
    const { type } = this as unknown as { type: HistogramData['type'] };
    return Promise.resolve({
      name: this.metricName,
      help: this.help,
      type,
      values: this.samples(),
      aggregator: 'sum',
      collect: () => undefined,
    });
  }

  // The registry renders a metric through this method when it has one, as prom-client's Histogram does.
  getForPromString(): Promise<HistogramData> {
    return this.get();
  }

  private samples(): HistogramData['values'] {
    const values: HistogramData['values'] = [];
    const name = this.metricName;
    const bucket = `${name}_bucket`;
    VERIFY_RESULTS.forEach((result, r) => {
      this.counts.bounds.forEach((le, b) =>
        values.push({ labels: { le, result }, value: this.counts.cumulative(r, b), metricName: bucket }),
      );
      values.push(
        { labels: { le: '+Inf', result }, value: this.counts.count(r), metricName: bucket },
        { labels: { result }, value: this.counts.sum(r), metricName: `${name}_sum` },
        { labels: { result }, value: this.counts.count(r), metricName: `${name}_count` },
      );
    });
    return values;
  }
}

/**
 * `scim_token_age_seconds{namespace,scimdomain}`: one series per domain, rebuilt from the token source
 * at every scrape so deleted or suspended domains disappear instead of aging forever. Rendered here,
 * not by a prom-client Gauge: resetting and re-setting 10,000 labelled series per scrape (label
 * validation, a hash string and a label object per series, then the registry's formatting) grew the
 * operator's RSS by 20-34 MB under a 2 Hz scrape. Here each series keeps its line prefix between
 * scrapes, and a scrape allocates one line per series.
 */
interface Series {
  readonly prefix: string;
  seen: number;
}

class TokenAgeGauge {
  static readonly NAME = 'scim_token_age_seconds';
  private static readonly HEADER =
    `# HELP ${TokenAgeGauge.NAME} Seconds since the current token of a ScimDomain was issued.\n` +
    `# TYPE ${TokenAgeGauge.NAME} gauge\n`;
  // namespace → name → `scim_token_age_seconds{namespace="…",scimdomain="…"} `, and the scrape that last saw it.
  private readonly prefixes = new Map<string, Map<string, Series>>();
  private scrape = 0;

  render(tokens: Iterable<TokenIssue>, nowMs: number): string {
    const scrape = ++this.scrape;
    const lines: string[] = [];
    for (const t of tokens) {
      const issuedMs = t.issuedAt.getTime();
      if (!Number.isFinite(issuedMs) || !isObjectName(t.namespace) || !isObjectName(t.name)) continue;
      let names = this.prefixes.get(t.namespace);
      if (!names) this.prefixes.set(t.namespace, (names = new Map<string, Series>()));
      let series = names.get(t.name);
      if (!series) {
        // Object names need no escaping (isObjectName: lowercase, digits, '-' and '.').
        const prefix = `${TokenAgeGauge.NAME}{namespace="${t.namespace}",scimdomain="${t.name}"} `;
        names.set(t.name, (series = { prefix, seen: scrape }));
      }
      series.seen = scrape;
      lines.push(series.prefix + String(Math.max(0, (nowMs - issuedMs) / 1000)));
    }
    for (const [namespace, names] of this.prefixes) {
      for (const [name, series] of names) if (series.seen !== scrape) names.delete(name);
      if (names.size === 0) this.prefixes.delete(namespace);
    }
    return `\n${TokenAgeGauge.HEADER}${lines.length > 0 ? `${lines.join('\n')}\n` : ''}`;
  }
}

export class Metrics {
  readonly registry = new Registry();

  private readonly clock: () => Date;
  private tokens: TokenSource | undefined;
  private readonly tokenAge = new TokenAgeGauge();

  readonly reconcileTotal: ReconcileTotal;
  readonly reconcileDuration: ReconcileDuration;
  readonly reconcileErrors: ReconcileErrors;
  readonly workqueueDepth: WorkqueueDepth;

  private readonly rotationsTotal: Counter<'trigger' | 'result'>;
  private readonly deliveriesTotal: Counter<'result'>;
  private readonly kubeRequests: Counter<'method'>;
  private readonly verify = new VerifyCounts();
  private readonly leader: Gauge;

  constructor(options: MetricsOptions = {}) {
    this.clock = options.clock ?? (() => new Date());
    this.tokens = options.tokens;
    const registers = [this.registry];

    const reconcileTotal = new Counter({
      name: 'scim_reconcile_total',
      help: 'Reconciles by controller and result (success, error, requeue).',
      labelNames: ['controller', 'result'],
      registers,
    });
    this.reconcileTotal = {
      inc: ({ controller, result }) =>
        reconcileTotal.inc({ controller: identifierLabel(controller), result }),
    };
    const reconcileDuration = new Histogram({
      name: 'scim_reconcile_duration_seconds',
      help: 'Duration of reconciles by controller.',
      labelNames: ['controller'],
      buckets: RECONCILE_BUCKETS,
      registers,
    });
    this.reconcileDuration = {
      observe: ({ controller }, seconds) =>
        reconcileDuration.observe({ controller: identifierLabel(controller) }, seconds),
      startTimer: ({ controller }) => {
        const end = reconcileDuration.startTimer({ controller: identifierLabel(controller) });
        // prom-client's end() takes extra labels; hiding them keeps unchecked values out.
        return () => end();
      },
    };
    const reconcileErrors = new Counter({
      name: 'scim_reconcile_errors_total',
      help: 'Failed reconciles by controller and reason.',
      labelNames: ['controller', 'reason'],
      registers,
    });
    this.reconcileErrors = {
      inc: ({ controller, reason }) =>
        reconcileErrors.inc({ controller: identifierLabel(controller), reason: identifierLabel(reason) }),
    };
    const workqueueDepth = new Gauge({
      name: 'scim_workqueue_depth',
      help: 'Keys waiting in a work queue.',
      labelNames: ['queue'],
      registers,
    });
    this.workqueueDepth = {
      set: ({ queue }, depth) => workqueueDepth.set({ queue: identifierLabel(queue) }, depth),
    };
    this.kubeRequests = new Counter({
      name: 'scim_kube_requests_total',
      help: 'Requests this process sent to the Kubernetes API server, by HTTP method (WATCH for watches).',
      labelNames: ['method'],
      registers,
    });
    this.rotationsTotal = new Counter({
      name: 'scim_rotations_total',
      help: 'Token rotations by trigger (manual, schedule) and result (rotated, skipped, failed).',
      labelNames: ['trigger', 'result'],
      registers,
    });
    this.deliveriesTotal = new Counter({
      name: 'scim_deliveries_total',
      help: 'Attempts to deliver a token to an identity provider (SPEC §2.7), by result (success, failure).',
      labelNames: ['result'],
      registers,
    });
    for (const result of ['success', 'failure'] as const) this.deliveriesTotal.inc({ result }, 0);
    // Counted in typed arrays by recordVerifyRequest (the verifier's hot path); prom-client reads
    // them at scrape time.
    const verify = this.verify;
    new Counter({
      name: 'scim_verify_requests_total',
      help: 'Verifier requests by result.',
      labelNames: ['result'],
      registers,
      collect() {
        this.reset();
        VERIFY_RESULTS.forEach((result, i) => this.inc({ result }, verify.count(i)));
      },
    });
    new CountedHistogram(
      'scim_verify_request_duration_seconds',
      'Time to answer a verifier request.',
      verify,
      [this.registry],
    );
    this.leader = new Gauge({
      name: 'scim_leader',
      help: '1 while this replica holds the leader Lease (or runs without leader election), else 0.',
      registers,
    });

    // Every known series starts at 0 so rate() and alerts work before the first event.
    for (const trigger of ROTATION_TRIGGERS) {
      for (const result of ROTATION_RESULTS) this.rotationsTotal.inc({ trigger, result }, 0);
    }
    this.leader.set(0);

    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** The Content-Type of `render()`'s output. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of every metric. */
  async render(): Promise<string> {
    const text = await this.registry.metrics();
    let tokens: Iterable<TokenIssue>;
    try {
      tokens = this.tokens?.() ?? [];
    } catch {
      // A failing source must not fail the whole scrape; the gauge is simply empty.
      tokens = [];
    }
    return text + this.tokenAge.render(tokens, this.clock().getTime());
  }

  /** Where `scim_token_age_seconds` reads the current tokens from at each scrape. */
  setTokenAgeSource(tokens: TokenSource): void {
    this.tokens = tokens;
  }

  recordReconcile(controller: string, result: ReconcileResult, durationSeconds: number): void {
    this.reconcileTotal.inc({ controller, result });
    this.reconcileDuration.observe({ controller }, durationSeconds);
  }

  /** `reason` is a short cause such as `ApiError` or `http_409`, never an error message. */
  recordReconcileError(controller: string, reason: string): void {
    this.reconcileErrors.inc({ controller, reason });
  }

  setWorkqueueDepth(queue: string, depth: number): void {
    this.workqueueDepth.set({ queue }, depth);
  }

  /** One request to the Kubernetes API server (see kube/request-counter.ts). */
  recordKubeRequest(method: string): void {
    const m = method.toUpperCase();
    this.kubeRequests.inc({ method: /^[A-Z]{3,7}$/.test(m) ? m : INVALID_LABEL });
  }

  recordRotation(trigger: RotationTrigger, result: RotationResult): void {
    this.rotationsTotal.inc({ trigger, result });
  }

  recordDelivery(result: 'success' | 'failure'): void {
    this.deliveriesTotal.inc({ result });
  }

  /** Once per verifier request: a few array writes, no allocation (see VerifyCounts). */
  recordVerifyRequest(result: VerifyResult, durationSeconds: number): void {
    this.verify.record(VERIFY_RESULT_INDEX[result], durationSeconds);
  }

  setLeader(isLeader: boolean): void {
    this.leader.set(isLeader ? 1 : 0);
  }
}

// Short identifiers only: long or free-form values (error messages!) would leak data and explode
// the number of series.
const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,62}$/;

/** `value` if it is a short identifier that cannot hold a token, else "invalid". */
export function identifierLabel(value: string): string {
  return IDENTIFIER.test(value) && !value.includes('sct_') ? value : INVALID_LABEL;
}

// Kubernetes namespace and object names (RFC 1123 subdomain); lowercase, so never a token.
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function isObjectName(value: string): boolean {
  return OBJECT_NAME.test(value);
}
