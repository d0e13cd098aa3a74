// Leader election on a coordination.k8s.io/v1 Lease (SPEC §5: only the leader reconciles; failover
// within the lease duration; SIGTERM releases the Lease).
//
// Owns: the Lease record this process writes, the acquire/renew loop and its timing, and the
// release on shutdown. It does not own what leading means: callers get `onStartedLeading` /
// `onStoppedLeading` and decide (start the controllers; exit the process).
//
// The algorithm is client-go's tools/leaderelection, kept deliberately close so its reasoning
// carries over:
// - Expiry is judged on the candidate's own clock, from the moment it *observed* the current record
//   (observedAt + leaseDurationSeconds), never from the record's renewTime, which was written with
//   another node's clock. A fresh candidate therefore waits one lease duration before taking over a
//   lease it has just seen; in exchange clock skew between nodes cannot create two leaders.
// - Every write carries the resourceVersion it was based on (optimistic concurrency): of two
//   candidates racing for an expired lease, the API server lets exactly one win.
// - The leader renews every retry period and gives up leadership once it has not renewed for the
//   renew deadline (< lease duration), measured from the start of its last successful renewal: it
//   stops acting before any other candidate can consider the lease expired.
// - Release (client-go's ReleaseOnCancel) writes an empty holderIdentity with a 1 s duration, so a
//   waiting candidate takes over on its next attempt instead of after a full lease duration.
//
// The decisions are pure functions (exported for the tests); `LeaderElector` is the I/O around them,
// with the clock, sleep and randomness injectable.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { V1Lease, V1MicroTime } from '@kubernetes/client-node';
import { leasesApi } from './apis.js';
import type { KubeClient } from './client.js';
import type { LeaderElectionConfig } from './leader-election-config.js';
import { describeError, isConflict, isNotFound } from './errors.js';

/** The Lease name; the chart's leader-election Role grants get/update on exactly this name. */
export const DEFAULT_LEASE_NAME = 'scim-token-operator-leader';

/** Where a pod finds its own namespace (mounted with the ServiceAccount token). */
export const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** The part of a Lease that leader election reads and writes. */
export interface LeaseRecord {
  /** '' when nobody holds the lease (after a release). */
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime: Date | undefined;
  readonly renewTime: Date | undefined;
  readonly leaseTransitions: number;
}

/** A record as this candidate saw it, and when (on this candidate's clock) it first saw it. */
export interface Observation {
  readonly record: LeaseRecord;
  readonly resourceVersion: string;
  readonly observedAtMs: number;
}

// ---------------------------------------------------------------------------------------------------
// Pure decisions

/** Whole seconds for `leaseDurationSeconds`, rounded up so the lease never lasts less than asked. */
export function leaseDurationSeconds(leaseDurationMs: number): number {
  return Math.max(1, Math.ceil(leaseDurationMs / 1000));
}

/** Reads the election fields of a Lease. client-node returns MicroTime fields as strings at runtime. */
export function recordFromLease(lease: V1Lease): LeaseRecord {
  const spec = lease.spec ?? {};
  return {
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: toDate(spec.acquireTime),
    renewTime: toDate(spec.renewTime),
    leaseTransitions: spec.leaseTransitions ?? 0,
  };
}

function toDate(value: unknown): Date | undefined {
  let d: Date;
  if (value instanceof Date) d = new Date(value.getTime());
  else if (typeof value === 'string' && value !== '') d = new Date(value);
  else return undefined;
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/**
 * The observation after reading a record: the clock only restarts when the record changed, i.e.
 * when the holder renewed (or someone else took over). A record read again unchanged keeps ageing.
 */
export function observe(
  previous: Observation | undefined,
  record: LeaseRecord,
  resourceVersion: string,
  nowMs: number,
): Observation {
  if (previous && previous.resourceVersion === resourceVersion) return previous;
  return { record, resourceVersion, observedAtMs: nowMs };
}

/** True while someone holds the lease and it has not expired on this candidate's clock. */
export function isLeaseHeld(observation: Observation, nowMs: number): boolean {
  const { holderIdentity, leaseDurationSeconds: seconds } = observation.record;
  return holderIdentity !== '' && observation.observedAtMs + seconds * 1000 > nowMs;
}

export function isHeldBy(record: LeaseRecord, identity: string): boolean {
  return record.holderIdentity === identity;
}

export type LeaseDecision =
  /** No Lease exists: create it with us as holder. */
  | { readonly kind: 'create' }
  /** We hold it: write a fresh renewTime. */
  | { readonly kind: 'renew' }
  /** It is free (released or expired): take it over, counting a transition. */
  | { readonly kind: 'takeover'; readonly previousHolder: string }
  /** Someone else holds a valid lease: do nothing until the next attempt. */
  | { readonly kind: 'wait'; readonly holder: string; readonly expiresInMs: number };

/** What one acquire-or-renew attempt should do, given what was read (undefined: no Lease). */
export function planAcquireOrRenew(
  observation: Observation | undefined,
  identity: string,
  nowMs: number,
): LeaseDecision {
  if (observation === undefined) return { kind: 'create' };
  const { record } = observation;
  if (isHeldBy(record, identity)) return { kind: 'renew' };
  if (isLeaseHeld(observation, nowMs)) {
    return {
      kind: 'wait',
      holder: record.holderIdentity,
      expiresInMs: observation.observedAtMs + record.leaseDurationSeconds * 1000 - nowMs,
    };
  }
  return { kind: 'takeover', previousHolder: record.holderIdentity };
}

/** The record to write for a create, renew or takeover. */
export function nextRecord(
  decision: Exclude<LeaseDecision, { kind: 'wait' }>,
  current: LeaseRecord | undefined,
  identity: string,
  durationSeconds: number,
  now: Date,
): LeaseRecord {
  switch (decision.kind) {
    case 'create':
      return {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: 0,
      };
    case 'renew':
      return {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: current?.acquireTime ?? now,
        renewTime: now,
        leaseTransitions: current?.leaseTransitions ?? 0,
      };
    case 'takeover':
      return {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: (current?.leaseTransitions ?? 0) + 1,
      };
  }
}

/** What a leader writes when it lets go: no holder, and a lease that ends in a second anyway. */
export function releasedRecord(current: LeaseRecord, now: Date): LeaseRecord {
  return {
    holderIdentity: '',
    leaseDurationSeconds: 1,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: current.leaseTransitions,
  };
}

/** A leader that has not renewed for the renew deadline must stop acting as leader. */
export function isRenewDeadlinePassed(lastRenewMs: number, nowMs: number, renewDeadlineMs: number): boolean {
  return nowMs - lastRenewMs >= renewDeadlineMs;
}

/** Delay before the next attempt: the retry period plus up to `jitter` of it, so candidates spread. */
export function retryDelayMs(retryPeriodMs: number, random: number, jitter = 0.2): number {
  return Math.round(retryPeriodMs * (1 + jitter * random));
}

/**
 * This process's identity in the Lease, unique per process (as client-go's `hostname_uuid`): the
 * pod name (hostname in a pod) for people reading `kubectl get lease`, a random part so a restarted
 * container with the same hostname is a new candidate.
 */
export function leaderIdentity(hostname: string, unique: string): string {
  return `${hostname}_${unique}`;
}

export class LeaderElectionConfigError extends Error {
  override readonly name = 'LeaderElectionConfigError';
}

/**
 * The Lease's namespace: the configured one, else the namespace of the pod's ServiceAccount. Out of
 * a cluster there is none to guess, and a guess ("default") could split two operators across two
 * Leases, so that is an error naming the flag.
 */
export function resolveLeaseNamespace(
  configured: string | undefined,
  readServiceAccountNamespace: () => string | undefined,
): string {
  if (configured) return configured;
  const fromPod = readServiceAccountNamespace()?.trim();
  if (fromPod) return fromPod;
  throw new LeaderElectionConfigError(
    `--leader-election-namespace: expected a namespace when not running in a pod ` +
      `(${SERVICE_ACCOUNT_NAMESPACE_FILE} is missing)`,
  );
}

// ---------------------------------------------------------------------------------------------------
// I/O

/** The three Lease calls leader election makes (and so the only RBAC it needs: get, create, update). */
export interface LeaseClient {
  /** undefined when the Lease does not exist. */
  read(namespace: string, name: string): Promise<V1Lease | undefined>;
  create(namespace: string, lease: V1Lease): Promise<V1Lease>;
  replace(namespace: string, name: string, lease: V1Lease): Promise<V1Lease>;
}

export function leaseClient(client: KubeClient): LeaseClient {
  const api = leasesApi(client);
  return {
    async read(namespace, name) {
      try {
        return await api.readNamespacedLease({ namespace, name });
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    create: (namespace, body) => api.createNamespacedLease({ namespace, body }),
    replace: (namespace, name, body) => api.replaceNamespacedLease({ namespace, name, body }),
  };
}

/**
 * A MicroTime as the API server reads it (RFC 3339, exactly six fractional digits): the body is sent
 * as JSON, so the typed field carries this string.
 */
export function formatMicroTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function leaseBody(
  namespace: string,
  name: string,
  record: LeaseRecord,
  resourceVersion: string | undefined,
): V1Lease {
  const micro = (d: Date | undefined) =>
    d === undefined ? undefined : (formatMicroTime(d) as unknown as V1MicroTime);
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name,
      namespace,
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
      labels: { 'app.kubernetes.io/managed-by': 'scim-token-operator' },
    },
    spec: {
      holderIdentity: record.holderIdentity,
      leaseDurationSeconds: record.leaseDurationSeconds,
      ...(record.acquireTime ? { acquireTime: micro(record.acquireTime) } : {}),
      ...(record.renewTime ? { renewTime: micro(record.renewTime) } : {}),
      leaseTransitions: record.leaseTransitions,
    },
  };
}

export interface LeaderElectionLog {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
  debug(o: object, m: string): void;
  error(o: object, m: string): void;
}

export interface LeaderElectorOptions {
  client: LeaseClient;
  namespace: string;
  /** Default DEFAULT_LEASE_NAME. */
  name?: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** Called once, when this process becomes leader. Not awaited by the renew loop. */
  onStartedLeading: () => void | Promise<void>;
  /**
   * Called once, when this process stops being leader (renewal failed past the deadline, the lease
   * was taken, or `release()`); never called if it never led. After it, the process must stop
   * acting as leader at once — the safe reaction is to exit (controller-runtime does).
   */
  onStoppedLeading: (reason: StoppedReason) => void;
  /** Called whenever another identity is seen holding the lease. */
  onNewLeader?: (identity: string) => void;
  log: LeaderElectionLog;
  now?: () => number;
  /** Resolves after `ms`, or early when the signal aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
}

export type StoppedReason = 'released' | 'renew-deadline' | 'lease-lost' | 'started-leading-failed';

export type ElectorState = 'idle' | 'candidate' | 'leader' | 'stopped';

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

class AttemptTimeout extends Error {
  override readonly name = 'AttemptTimeout';
}

export class LeaderElector {
  private readonly name: string;
  private readonly durationSeconds: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly stopSignal = new AbortController();
  private observation: Observation | undefined;
  private lastRenewMs = 0;
  private stateValue: ElectorState = 'idle';
  private running: Promise<void> | undefined;
  private inFlight: Promise<unknown> = Promise.resolve();
  private lastSeenLeader: string | undefined;

  constructor(private readonly opts: LeaderElectorOptions) {
    if (!(opts.retryPeriodMs < opts.renewDeadlineMs && opts.renewDeadlineMs < opts.leaseDurationMs)) {
      throw new LeaderElectionConfigError(
        'expected retry period < renew deadline < lease duration, got ' +
          `${opts.retryPeriodMs} ms, ${opts.renewDeadlineMs} ms, ${opts.leaseDurationMs} ms`,
      );
    }
    this.name = opts.name ?? DEFAULT_LEASE_NAME;
    this.durationSeconds = leaseDurationSeconds(opts.leaseDurationMs);
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? abortableSleep;
    this.random = opts.random ?? Math.random;
  }

  get isLeader(): boolean {
    return this.stateValue === 'leader';
  }

  get state(): ElectorState {
    return this.stateValue;
  }

  get identity(): string {
    return this.opts.identity;
  }

  /** `namespace/name` of the Lease. */
  get lease(): string {
    return `${this.opts.namespace}/${this.name}`;
  }

  /**
   * Campaigns until elected, then renews until leadership ends. Resolves when the elector has
   * stopped (after `onStoppedLeading`, or after `release()` if it never led). Never rejects: API
   * errors are retried, and a lost lease is reported through `onStoppedLeading`.
   */
  run(): Promise<void> {
    this.running ??= this.loop();
    return this.running;
  }

  /**
   * Stops campaigning or renewing and, if this process holds the lease, writes the released record
   * so another replica takes over at once. Waits (up to the renew deadline) for an attempt in flight
   * first, so the release is the last write. Calls `onStoppedLeading('released')` if it was leading.
   * Safe to call more than once and before `run()`.
   *
   * Call it after the controllers have finished their in-flight work (SPEC §5): until then this
   * process keeps renewing, so no other replica starts reconciling next to it.
   */
  async release(): Promise<void> {
    this.stopSignal.abort();
    await this.settleInFlight();
    const wasLeader = this.stateValue === 'leader';
    if (this.observation && isHeldBy(this.observation.record, this.identity)) {
      try {
        await this.withTimeout(this.writeReleased(this.observation), this.opts.renewDeadlineMs);
        this.opts.log.info({ lease: this.lease, identity: this.identity }, 'released the lease');
      } catch (err) {
        // The lease then simply expires after its duration.
        this.opts.log.warn({ lease: this.lease, error: describeError(err) }, 'could not release the lease');
      }
    }
    if (wasLeader) this.stopLeading('released');
    this.stateValue = 'stopped';
    await this.running;
  }

  private async loop(): Promise<void> {
    const { log } = this.opts;
    const signal = this.stopSignal.signal;
    this.stateValue = 'candidate';
    log.info({ lease: this.lease, identity: this.identity }, 'campaigning for leadership');
    while (!signal.aborted && this.stateValue === 'candidate') {
      const acquired = await this.attempt(this.opts.renewDeadlineMs);
      if (signal.aborted) break;
      if (acquired) {
        this.stateValue = 'leader';
        log.info({ lease: this.lease, identity: this.identity }, 'became leader');
        this.startLeading();
        break;
      }
      await this.sleep(retryDelayMs(this.opts.retryPeriodMs, this.random()), signal);
    }
    while (!signal.aborted && this.stateValue === 'leader') {
      await this.sleep(this.opts.retryPeriodMs, signal);
      if (signal.aborted) break;
      const remaining = this.opts.renewDeadlineMs - (this.now() - this.lastRenewMs);
      const renewed = await this.attempt(Math.max(1, remaining));
      if (signal.aborted || this.stateValue !== 'leader') break;
      if (renewed) continue;
      if (!this.observation || !isHeldBy(this.observation.record, this.identity)) {
        // Read back as someone else's, released, or deleted: either way another replica may lead now.
        log.warn(
          { lease: this.lease, identity: this.identity, holder: this.observation?.record.holderIdentity },
          'lost leadership: the lease is no longer ours',
        );
        this.stopLeading('lease-lost');
      } else if (isRenewDeadlinePassed(this.lastRenewMs, this.now(), this.opts.renewDeadlineMs)) {
        log.warn(
          { lease: this.lease, identity: this.identity, renewDeadlineMs: this.opts.renewDeadlineMs },
          'lost leadership: could not renew the lease within the renew deadline',
        );
        this.stopLeading('renew-deadline');
      }
    }
    if (this.stateValue !== 'leader') this.stateValue = 'stopped';
  }

  private startLeading(): void {
    Promise.resolve()
      .then(() => this.opts.onStartedLeading())
      .catch((err: unknown) => {
        this.opts.log.error(
          { lease: this.lease, error: err instanceof Error ? err.message : String(err) },
          'onStartedLeading failed; giving up leadership',
        );
        this.stopLeading('started-leading-failed');
        void this.release();
      });
  }

  private stopLeading(reason: StoppedReason): void {
    if (this.stateValue !== 'leader') return;
    this.stateValue = 'stopped';
    this.opts.onStoppedLeading(reason);
  }

  /** One acquire-or-renew attempt, bounded by `timeoutMs`; true when we hold the lease after it. */
  private attempt(timeoutMs: number): Promise<boolean> {
    const startedMs = this.now();
    const work = this.tryAcquireOrRenew(startedMs);
    this.inFlight = work;
    return this.withTimeout(work, timeoutMs)
      .then((held) => {
        if (held) this.lastRenewMs = startedMs;
        return held;
      })
      .catch((err: unknown) => {
        this.opts.log.warn(
          { lease: this.lease, identity: this.identity, error: describeError(err) },
          this.stateValue === 'leader' ? 'could not renew the lease' : 'could not acquire the lease',
        );
        return false;
      });
  }

  private withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AttemptTimeout(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }

  private async settleInFlight(): Promise<void> {
    await this.withTimeout(this.inFlight, this.opts.renewDeadlineMs).catch(() => undefined);
  }

  private async tryAcquireOrRenew(startedMs: number): Promise<boolean> {
    const { client, namespace, log } = this.opts;
    const lease = await client.read(namespace, this.name);
    const readAtMs = this.now();
    if (lease) {
      this.observation = observe(
        this.observation,
        recordFromLease(lease),
        lease.metadata?.resourceVersion ?? '',
        readAtMs,
      );
      this.noticeLeader(this.observation.record.holderIdentity);
    } else {
      this.observation = undefined;
    }
    const decision = planAcquireOrRenew(this.observation, this.identity, readAtMs);
    // A leader only ever renews: finding the lease held by another, or free, means it was lost.
    if (this.stateValue === 'leader' && decision.kind !== 'renew') return false;
    if (decision.kind === 'wait') {
      log.debug(
        { lease: this.lease, holder: decision.holder, expiresInMs: decision.expiresInMs },
        'lease held by another replica',
      );
      return false;
    }
    // A leader whose renewal comes too late must not renew: others may already consider it gone.
    if (decision.kind === 'renew' && this.stateValue === 'leader') {
      if (isRenewDeadlinePassed(this.lastRenewMs, readAtMs, this.opts.renewDeadlineMs)) return false;
    }
    const record = nextRecord(
      decision,
      this.observation?.record,
      this.identity,
      this.durationSeconds,
      new Date(startedMs),
    );
    try {
      const written =
        decision.kind === 'create'
          ? await client.create(namespace, leaseBody(namespace, this.name, record, undefined))
          : await client.replace(
              namespace,
              this.name,
              leaseBody(namespace, this.name, record, this.observation?.resourceVersion),
            );
      this.observation = {
        record: recordFromLease(written),
        resourceVersion: written.metadata?.resourceVersion ?? '',
        observedAtMs: this.now(),
      };
      if (decision.kind === 'takeover') {
        log.info(
          {
            lease: this.lease,
            identity: this.identity,
            previousHolder: decision.previousHolder || undefined,
          },
          'took over the lease',
        );
      }
      this.noticeLeader(this.identity);
      return true;
    } catch (err) {
      // Someone else wrote first (409 on update, or 409 AlreadyExists on create): re-read next time.
      if (isConflict(err)) {
        log.debug({ lease: this.lease, decision: decision.kind }, 'lease changed under us');
        return false;
      }
      throw err;
    }
  }

  private async writeReleased(current: Observation): Promise<void> {
    const { client, namespace } = this.opts;
    const record = releasedRecord(current.record, new Date(this.now()));
    await client.replace(
      namespace,
      this.name,
      leaseBody(namespace, this.name, record, current.resourceVersion),
    );
  }

  private noticeLeader(holder: string): void {
    if (holder === '' || holder === this.lastSeenLeader) return;
    this.lastSeenLeader = holder;
    if (holder !== this.identity) this.opts.log.info({ lease: this.lease, holder }, 'another replica leads');
    this.opts.onNewLeader?.(holder);
  }
}

export interface CreateLeaderElectorOptions extends Pick<
  LeaderElectorOptions,
  'onStartedLeading' | 'onStoppedLeading' | 'onNewLeader' | 'log'
> {
  /** `config.leaderElection`. */
  config: LeaderElectionConfig;
  client: KubeClient;
  /** The readable part of the identity: the pod name (POD_NAME, set by the chart) or the hostname. */
  hostname: string;
  /** Default: a random UUID, so a restarted process is a new candidate. */
  unique?: string;
  /** Default: reads SERVICE_ACCOUNT_NAMESPACE_FILE. */
  readServiceAccountNamespace?: () => string | undefined;
}

function readServiceAccountNamespaceFile(): string | undefined {
  try {
    return readFileSync(SERVICE_ACCOUNT_NAMESPACE_FILE, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The elector for the operator process, from its parsed flags: Lease `DEFAULT_LEASE_NAME` in
 * --leader-election-namespace (else the pod's namespace), identity `<hostname>_<uuid>`.
 * Throws LeaderElectionConfigError when no namespace can be determined.
 */
export function createLeaderElector(opts: CreateLeaderElectorOptions): LeaderElector {
  const { config } = opts;
  return new LeaderElector({
    client: leaseClient(opts.client),
    namespace: resolveLeaseNamespace(
      config.namespace,
      opts.readServiceAccountNamespace ?? readServiceAccountNamespaceFile,
    ),
    identity: leaderIdentity(opts.hostname, opts.unique ?? randomUUID()),
    leaseDurationMs: config.leaseDurationMs,
    renewDeadlineMs: config.renewDeadlineMs,
    retryPeriodMs: config.retryPeriodMs,
    onStartedLeading: opts.onStartedLeading,
    onStoppedLeading: opts.onStoppedLeading,
    ...(opts.onNewLeader ? { onNewLeader: opts.onNewLeader } : {}),
    log: opts.log,
  });
}
