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
import { ConditionType, type ScimDomain } from '../api/types.js';
import { getCondition } from '../rules/conditions.js';
import { tokenExpiry } from '../rules/token-age.js';
import { packageVersion } from './build-info.js';

export const RECONCILE_OUTCOMES = ['success', 'error', 'requeue'] as const;
export type ReconcileOutcome = (typeof RECONCILE_OUTCOMES)[number];

export const ROTATION_TRIGGERS = ['manual', 'schedule'] as const;
export type RotationTrigger = (typeof ROTATION_TRIGGERS)[number];

export const ROTATION_RESULTS = ['rotated', 'skipped', 'failed'] as const;
export type RotationResult = (typeof ROTATION_RESULTS)[number];

export const VERIFY_RESULTS = ['valid', 'missing', 'malformed', 'unknown', 'revoked', 'error'] as const;
export type VerifyResult = (typeof VERIFY_RESULTS)[number];

// Narrow views of the prom-client metrics: callers get inc/set/startTimer with typed labels, and every
// free-form label value passes `identifierLabel` on its way in.
export interface ReconcileTotal {
  inc(labels: { controller: string; result: ReconcileOutcome }): void;
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
  /** Read at every scrape; may also be set later with `setDomainSource` (the cache comes up after us). */
  domains?: DomainSource;
  /** Process and Node.js runtime metrics (prom-client defaults); default true. */
  defaultMetrics?: boolean;
  /** The `version` label of `scim_build_info`; default the package's version. */
  version?: string;
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
 * The per-domain series, rebuilt from the domain source at every scrape so deleted domains disappear:
 *
 * - `scim_token_issued_timestamp_seconds{namespace,name}`: when the current token was issued;
 * - `scim_token_expiry_timestamp_seconds{namespace,name}`: when it passes `spec.maxTokenAge` (only
 *   for domains that set one);
 * - `scim_domain_ready{namespace,name,condition}`: 1 on the series of the Ready condition's status
 *   (True, False or Unknown), 0 on the other two, as cert-manager's `certmanager_certificate_ready_status`;
 * - `scim_domain_suspended{namespace,name}`: 1 while `spec.suspend` is true (Ready=False by request,
 *   which alerts leave alone).
 *
 * Timestamps, not ages, as Prometheus recommends: `time() - scim_token_issued_timestamp_seconds` is the
 * age, and a sample does not change between scrapes unless the token does.
 *
 * Rendered here, not by prom-client Gauges: resetting and re-setting 10,000 labelled series per scrape
 * (label validation, a hash string and a label object per series, then the registry's formatting)
 * grew the operator's RSS by 20-34 MB under a 2 Hz scrape. Here each domain keeps its label text
 * between scrapes, and a scrape allocates one line per series.
 */
export const DOMAIN_SERIES = {
  issued: 'scim_token_issued_timestamp_seconds',
  expiry: 'scim_token_expiry_timestamp_seconds',
  ready: 'scim_domain_ready',
  suspended: 'scim_domain_suspended',
} as const;

const READY_STATUSES = ['True', 'False', 'Unknown'] as const;
export type ReadyStatus = (typeof READY_STATUSES)[number];

/** What the per-domain series read from one ScimDomain at scrape time: references, no copies. */
export interface DomainSample {
  readonly namespace: string;
  readonly name: string;
  /** `status.token.issuedAt` (RFC 3339); absent while the domain has no current token. */
  readonly issuedAt?: string;
  /** `spec.maxTokenAge`, e.g. `720h`. */
  readonly maxTokenAge?: string;
  /** The status of the domain's Ready condition (Unknown when it has none yet). */
  readonly ready: ReadyStatus;
  /** `spec.suspend`. */
  readonly suspended?: boolean;
}

export type DomainSource = () => Iterable<DomainSample>;

// Domains per chunk of per-domain series text: ~30 kB, so a scrape of 10,000 domains (4 MB of
// text) never holds more than a chunk of it, and the event loop is free between chunks.
const DOMAINS_PER_CHUNK = 128;

/** One family of the per-domain series: its HELP/TYPE header and a domain's lines (each ending in \n). */
interface DomainFamily {
  readonly header: string;
  lines(d: DomainSample, labels: string): string;
}

function issuedMsOf(d: DomainSample): number {
  return d.issuedAt === undefined ? NaN : Date.parse(d.issuedAt);
}

const DOMAIN_FAMILIES: readonly DomainFamily[] = [
  {
    header:
      `# HELP ${DOMAIN_SERIES.issued} When the current token of a ScimDomain was issued (Unix seconds).\n` +
      `# TYPE ${DOMAIN_SERIES.issued} gauge\n`,
    lines: (d, labels) => {
      const issuedMs = issuedMsOf(d);
      return Number.isFinite(issuedMs) ? `${DOMAIN_SERIES.issued}{${labels}} ${issuedMs / 1000}\n` : '';
    },
  },
  {
    header:
      `# HELP ${DOMAIN_SERIES.expiry} When the current token of a ScimDomain passes spec.maxTokenAge (Unix seconds).\n` +
      `# TYPE ${DOMAIN_SERIES.expiry} gauge\n`,
    lines: (d, labels) => {
      const issuedMs = issuedMsOf(d);
      const expiresAt = Number.isFinite(issuedMs)
        ? tokenExpiry(new Date(issuedMs), d.maxTokenAge)
        : undefined;
      return expiresAt ? `${DOMAIN_SERIES.expiry}{${labels}} ${expiresAt.getTime() / 1000}\n` : '';
    },
  },
  {
    header:
      `# HELP ${DOMAIN_SERIES.ready} The status of a ScimDomain's Ready condition: 1 on the series of its current status.\n` +
      `# TYPE ${DOMAIN_SERIES.ready} gauge\n`,
    lines: (d, labels) =>
      READY_STATUSES.map(
        (status) => `${DOMAIN_SERIES.ready}{${labels},condition="${status}"} ${status === d.ready ? 1 : 0}\n`,
      ).join(''),
  },
  {
    header:
      `# HELP ${DOMAIN_SERIES.suspended} 1 while a ScimDomain is suspended (spec.suspend), else 0.\n` +
      `# TYPE ${DOMAIN_SERIES.suspended} gauge\n`,
    lines: (d, labels) => `${DOMAIN_SERIES.suspended}{${labels}} ${d.suspended === true ? 1 : 0}\n`,
  },
];

/**
 * The per-domain series as text, family by family (Prometheus wants a family's samples together), in
 * chunks of DOMAINS_PER_CHUNK domains read afresh from `source` for each family. Nothing is kept
 * between scrapes: at 10,000 domains a cache of every domain's lines and of the last output held
 * ~45 MB of RSS in the controller and in each verifier (docs/benchmarks.md, "Cost curve"), for a
 * scrape that takes tens of milliseconds every 15–60 s.
 */
export function* domainSeriesChunks(source: () => Iterable<DomainSample>): Generator<string> {
  yield '\n';
  for (const family of DOMAIN_FAMILIES) {
    let chunk = family.header;
    let n = 0;
    for (const d of source()) {
      // Object names need no escaping: lowercase, digits, '-' and '.'; anything else is skipped.
      if (!isObjectName(d.namespace) || !isObjectName(d.name)) continue;
      chunk += family.lines(d, `namespace="${d.namespace}",name="${d.name}"`);
      if (++n % DOMAINS_PER_CHUNK === 0) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk !== '') yield chunk;
  }
}

/** The samples of the per-domain series, one domain at a time (no array of all 10,000 per scrape). */
export function* domainSamples(domains: Iterable<ScimDomain>): Generator<DomainSample> {
  for (const d of domains) {
    yield {
      namespace: d.metadata.namespace,
      name: d.metadata.name,
      issuedAt: d.status?.token?.issuedAt,
      maxTokenAge: d.spec.maxTokenAge,
      ready: getCondition(d.status?.conditions, ConditionType.Ready)?.status ?? 'Unknown',
      suspended: d.spec.suspend === true,
    };
  }
}

// prom-client's default metrics export the number of active handles, requests and resources twice:
// by type (`nodejs_active_handles{type}`) and as a sum in a gauge named `_total`, a suffix Prometheus
// reserves for counters (`promtool check metrics` rejects it). The sums are
// `sum(nodejs_active_handles)`; these three are dropped.
const MISNAMED_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export class Metrics {
  readonly registry = new Registry();

  private domains: DomainSource | undefined;
  private staleness: (() => number | undefined) | undefined;

  readonly reconcileTotal: ReconcileTotal;
  readonly reconcileDuration: ReconcileDuration;
  readonly reconcileErrors: ReconcileErrors;
  readonly workqueueDepth: WorkqueueDepth;

  private readonly rotationsTotal: Counter<'trigger' | 'result'>;
  private readonly deliveriesTotal: Counter<'result'>;
  private readonly kubeRequests: Counter<'method'>;
  private readonly verify = new VerifyCounts();
  private readonly leader: Gauge;
  private verifierReady: () => boolean = () => false;

  constructor(options: MetricsOptions = {}) {
    this.domains = options.domains;
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
    const staleness = () => this.staleness?.();
    new Gauge({
      name: 'scim_verifier_index_staleness_seconds',
      help:
        "Seconds since the verifier's index was last known current (a list, a watch event or a bookmark); " +
        'absent before the first list. Past --max-staleness the verifier is unready.',
      registers,
      collect() {
        this.reset();
        const ms = staleness();
        if (ms !== undefined) this.set(ms / 1000);
      },
    });
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
    const verifierReady = () => this.verifierReady();
    new Gauge({
      name: 'scim_verifier_ready',
      help: "1 while this replica's verifier answers from an index synced with the API server, else 0.",
      registers,
      collect() {
        let ready = false;
        try {
          ready = verifierReady();
        } catch {
          // Not ready, then.
        }
        this.set(ready ? 1 : 0);
      },
    });
    new Gauge({
      name: 'scim_build_info',
      help: 'Always 1; the labels say which version of scim-token-operator runs, on which Node.js.',
      labelNames: ['version', 'node_version'],
      registers,
    }).set({ version: options.version ?? packageVersion(), node_version: process.version }, 1);

    if (options.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry });
      for (const name of MISNAMED_DEFAULT_METRICS) this.registry.removeSingleMetric(name);
    }
  }

  /** The Content-Type of `render()`'s output. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * The Prometheus text exposition of every metric, in chunks: prom-client's metrics first, then the
   * per-domain series (domainSeriesChunks). A failing domain source ends the per-domain series
   * early; it never fails the scrape.
   */
  async *renderChunks(): AsyncGenerator<string> {
    yield await this.registry.metrics();
    const source = this.domains;
    const chunks = domainSeriesChunks(source ?? (() => []));
    for (;;) {
      let next: IteratorResult<string>;
      try {
        next = chunks.next();
      } catch {
        return;
      }
      if (next.done) return;
      yield next.value;
    }
  }

  /** The whole exposition as one string (tests, tools). */
  async render(): Promise<string> {
    let text = '';
    for await (const chunk of this.renderChunks()) text += chunk;
    return text;
  }

  /** Where the per-domain series (token timestamps, readiness) read the domains from at each scrape. */
  setDomainSource(domains: DomainSource): void {
    this.domains = domains;
  }

  /** Where `scim_verifier_ready` reads this replica's verifier readiness from at each scrape. */
  setVerifierReadySource(ready: () => boolean): void {
    this.verifierReady = ready;
  }

  /** Where `scim_verifier_index_staleness_seconds` reads the index's staleness (ms) at each scrape. */
  setIndexStalenessSource(staleness: () => number | undefined): void {
    this.staleness = staleness;
  }

  recordReconcile(controller: string, result: ReconcileOutcome, durationSeconds: number): void {
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
