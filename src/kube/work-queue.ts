// Keyed work queue for reconcilers, with client-go workqueue + controller-runtime semantics.
//
// Owns: which keys wait, which are in flight, per-key failure counts and backoff, delayed re-adds
// (requeueAfter and retries) and graceful shutdown. It does not own what a key means: the handler
// reads the world by key and converges it (level-based), so coalescing many adds into one run is
// always safe.
//
// Guarantees:
// - a key waits in the queue at most once (adds while waiting are merged);
// - a key is never reconciled twice at once: an add during its run marks it dirty and it runs
//   again after the current run ends, so the change that caused the add is never missed;
// - up to `workers` different keys run concurrently;
// - failures back off per key (base·2^(n-1), capped, jittered); success or a TerminalError forgets
//   the count; a TerminalError is reported and not retried.

export type ReconcileResult = { requeueAfterMs?: number } | void;

/** Thrown by a handler when retrying cannot fix the problem (e.g. an invalid spec): no backoff retry. */
export class TerminalError extends Error {
  override name = 'TerminalError';
}

export interface Timers {
  setTimeout: typeof setTimeout;
  clearTimeout: typeof clearTimeout;
}

export interface BackoffOptions {
  baseDelayMs: number;
  maxDelayMs: number;
  /** Fraction: the delay is spread uniformly over delay·(1 ± jitter) before the cap. */
  jitter: number;
}

export interface WorkQueueOptions {
  name: string;
  /** How many different keys may be reconciled at the same time. */
  workers: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  jitter?: number;
  random?: () => number;
  timers?: Timers;
  /** Clock for comparing delayed re-adds; defaults to Date.now. */
  now?: () => number;
  /** `delayMs` is undefined when the key will not be retried (terminal error, or shutting down). */
  onError?: (key: string, err: unknown, attempt: number, delayMs: number | undefined) => void;
  onDepthChange?: (depth: number) => void;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  baseDelayMs: 100,
  maxDelayMs: 60_000,
  jitter: 0.2,
});

/**
 * Delay before retry number `failures` (1 = first failure): base·2^(failures-1), spread by ±jitter,
 * then capped so `maxDelayMs` is a true ceiling. Jitter keeps keys that failed together (an API
 * server blip) from retrying together.
 */
export function backoffDelayMs(failures: number, opts: BackoffOptions, random: () => number): number {
  const exponent = Math.max(0, failures - 1);
  const raw = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** exponent);
  const spread = 1 + opts.jitter * (2 * random() - 1);
  return Math.round(Math.max(0, Math.min(opts.maxDelayMs, raw * spread)));
}

type Handler = (key: string) => Promise<ReconcileResult>;

interface Delayed {
  dueAt: number;
  handle: ReturnType<typeof setTimeout>;
}

export class WorkQueue {
  private readonly handler: Handler;
  private readonly opts: WorkQueueOptions;
  private readonly backoff: BackoffOptions;
  private readonly random: () => number;
  private readonly timers: Timers;
  private readonly now: () => number;

  // A Set iterates in insertion order, so it is both the FIFO and the dedup index.
  private readonly waiting = new Set<string>();
  private readonly processing = new Set<string>();
  // Keys added while in flight: they go back into `waiting` when their run ends.
  private readonly dirty = new Set<string>();
  private readonly delayed = new Map<string, Delayed>();
  private readonly failures = new Map<string, number>();

  private started = false;
  private shuttingDown = false;
  private lastDepth = 0;
  private drained: Promise<void> | undefined;
  private resolveDrained: (() => void) | undefined;

  constructor(handler: Handler, opts: WorkQueueOptions) {
    if (!Number.isInteger(opts.workers) || opts.workers < 1) {
      throw new RangeError(
        `work queue ${opts.name}: workers must be a positive integer, got ${opts.workers}`,
      );
    }
    this.handler = handler;
    this.opts = opts;
    this.backoff = {
      baseDelayMs: opts.baseDelayMs ?? DEFAULT_BACKOFF.baseDelayMs,
      maxDelayMs: opts.maxDelayMs ?? DEFAULT_BACKOFF.maxDelayMs,
      jitter: opts.jitter ?? DEFAULT_BACKOFF.jitter,
    };
    this.random = opts.random ?? Math.random;
    this.timers = opts.timers ?? { setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout };
    this.now = opts.now ?? Date.now;
  }

  /** Keys waiting to run (not in flight, not delayed). */
  get depth(): number {
    return this.waiting.size;
  }

  get inFlight(): number {
    return this.processing.size;
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.waiting.has(key)) return;
    this.waiting.add(key);
    this.depthChanged();
    this.pump();
  }

  /**
   * Adds `key` after `delayMs`. If the key is already scheduled, the earlier time wins: a retry
   * backoff must not be postponed by a long resync, and vice versa a resync must not delay a retry.
   * An immediate `add` does not cancel a scheduled one (as in client-go); the extra run is cheap
   * because reconciles are idempotent.
   */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (!(delayMs > 0)) {
      this.add(key);
      return;
    }
    const dueAt = this.now() + delayMs;
    const existing = this.delayed.get(key);
    if (existing) {
      if (existing.dueAt <= dueAt) return;
      this.timers.clearTimeout(existing.handle);
    }
    const handle = this.timers.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.delayed.set(key, { dueAt, handle });
  }

  /** Starts the workers. Keys added before start wait in the queue. */
  start(): void {
    if (this.started || this.shuttingDown) return;
    this.started = true;
    this.pump();
  }

  /**
   * Stops taking work: drops delayed and waiting keys (the next start, or the next leader, lists
   * everything again) and resolves once in-flight handlers have returned. Never rejects.
   */
  shutdown(): Promise<void> {
    if (!this.drained) {
      this.shuttingDown = true;
      for (const { handle } of this.delayed.values()) this.timers.clearTimeout(handle);
      this.delayed.clear();
      this.waiting.clear();
      this.dirty.clear();
      this.depthChanged();
      this.drained = new Promise((resolve) => {
        this.resolveDrained = resolve;
      });
      this.settleIfDrained();
    }
    return this.drained;
  }

  private pump(): void {
    if (!this.started || this.shuttingDown) return;
    while (this.processing.size < this.opts.workers) {
      const next = this.waiting.values().next();
      if (next.done) return;
      const key = next.value;
      this.waiting.delete(key);
      this.processing.add(key);
      this.depthChanged();
      void this.run(key);
    }
  }

  private async run(key: string): Promise<void> {
    let result: ReconcileResult = undefined;
    let failed = false;
    let error: unknown;
    try {
      result = await this.handler(key);
    } catch (err) {
      failed = true;
      error = err;
    }

    this.processing.delete(key);
    if (failed) this.onFailure(key, error);
    else this.onSuccess(key, result);

    if (this.dirty.delete(key)) this.add(key);
    this.settleIfDrained();
    this.pump();
  }

  private onSuccess(key: string, result: ReconcileResult): void {
    this.failures.delete(key);
    if (result && result.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
  }

  private onFailure(key: string, err: unknown): void {
    const attempt = (this.failures.get(key) ?? 0) + 1;
    if (err instanceof TerminalError || this.shuttingDown) {
      // A terminal error will only be cured by a change to the object, which re-adds the key; the
      // next transient failure after that should start from the base delay again.
      this.failures.delete(key);
      this.report(key, err, attempt, undefined);
      return;
    }
    this.failures.set(key, attempt);
    const delayMs = backoffDelayMs(attempt, this.backoff, this.random);
    this.report(key, err, attempt, delayMs);
    this.addAfter(key, delayMs);
  }

  // Hooks are metrics and logging; one that throws must not wedge the queue's bookkeeping.
  private report(key: string, err: unknown, attempt: number, delayMs: number | undefined): void {
    try {
      this.opts.onError?.(key, err, attempt, delayMs);
    } catch {
      /* ignored: see above */
    }
  }

  private depthChanged(): void {
    const depth = this.waiting.size;
    if (depth === this.lastDepth) return;
    this.lastDepth = depth;
    try {
      this.opts.onDepthChange?.(depth);
    } catch {
      /* ignored: a metrics hook must not wedge the queue */
    }
  }

  private settleIfDrained(): void {
    if (this.shuttingDown && this.processing.size === 0 && this.resolveDrained) {
      this.resolveDrained();
      this.resolveDrained = undefined;
    }
  }
}
