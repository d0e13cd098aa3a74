// A list-watch cache that survives API server outages: runs list-then-watch cycles
// (kube/list-watch.ts), each of which stops for good on its first error, and starts a new one with
// a fresh list after an exponential backoff with full jitter.
//
// Owns: the object cache callers read (list/get), the add/update/delete events derived from it, the
// restart policy (pure: `planRestart`). What a failure may put in the log is kube/errors.ts's
// `summarizeError`.
//
// The cache lives here, not in the cycle: every attempt gets a new cycle, and each fresh list is
// diffed against our cache. That way objects deleted while we were disconnected produce 'delete'
// events, unchanged objects produce nothing, and readers keep seeing the last known state during an
// outage (as controller-runtime's cache does) instead of an empty cache.
//
// Lists are read in pages (`limit`/`continue`, as client-go's pager does), so that a list of 10,000
// objects is never one response held and parsed at once; the pages are one consistent snapshot, and
// the watch starts from its resourceVersion. Every object passes through `transform` before it is
// cached, from a list or a watch, so that what no reader uses (managedFields) is never kept.
//
// Fresh or failed, never silently stale (SPEC §4): every watch asks for bookmarks and carries a
// server-side timeout drawn between 5 and 10 minutes (as client-go's reflector does, so a fleet of
// watchers does not reconnect in step), and a watchdog fails the attempt — a fresh list, with backoff
// — when neither a page of a list nor any watch event (a bookmark included) has arrived for
// `silenceTimeoutMs`. That catches the connection that stays open but carries nothing (a half-open
// TCP connection, a stalled proxy), which no error and no timeout would ever end. `lastCurrentAt`
// says when the cache was last known current (a list completed, or the watch said something), so a
// reader can refuse to answer from a cache older than it tolerates.
//
// A cycle resumes by itself without backoff (a watch timeout; a 410 Gone, with a new list): a
// server or proxy that keeps answering the watch with 410, or closing it at once, would get a tight
// list/watch loop. We count reconnects that follow each other quickly and turn a streak of them
// into a failure, which does back off.

import type { KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';
import { summarizeError } from './errors.js';
import {
  ListWatchCycle,
  addOrUpdateObject,
  deleteMissing,
  deleteObject,
  type CacheMap,
  type ObjectCallback,
  type ObjectEvent,
} from './list-watch.js';

export interface InformerLog {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
  debug(o: object, m: string): void;
}

export interface InformerTimers {
  setTimeout: typeof setTimeout;
  clearTimeout: typeof clearTimeout;
}

export interface InformerOptions<T extends KubernetesObject> {
  name: string;
  client: KubeClient;
  /** Watch path, e.g. `/apis/scim.example.com/v1alpha1/scimdomains`. */
  path: string;
  /** One page of the list: at most `limit` objects, from `continue` on (absent on the first page). */
  list: (page: ListPage) => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  /** Objects per list page; default 500 (client-go's pager). */
  pageSize?: number;
  /**
   * List by streaming (`sendInitialEvents`, list-watch.ts) while the server offers it; default
   * true. false: always paged lists.
   */
  streamingList?: boolean;
  /**
   * Applied to every object before it enters the cache, from a list or a watch: drops what no
   * reader uses. May modify and return its argument (a freshly parsed object nobody else holds).
   */
  transform?: (obj: T) => T;
  log: InformerLog;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long an attempt must stay listed-and-watching before the backoff starts over. */
  resetBackoffAfterMs?: number;
  /**
   * The watchdog: an attempt that has received nothing (no list page, no watch event, no bookmark)
   * for this long is failed and replaced by a fresh list. Default 90 s: the API server sends a
   * bookmark about once a minute on a quiet watch.
   */
  silenceTimeoutMs?: number;
  /** Each watch asks to be ended after between this and twice this; default 5 min (client-go's). */
  minWatchTimeoutMs?: number;
  random?: () => number;
  now?: () => number;
  timers?: InformerTimers;
}

export interface ListPage {
  limit: number;
  continue?: string;
}

export const DEFAULT_PAGE_SIZE = 500;

export const DEFAULT_SILENCE_TIMEOUT_MS = 90_000;

// client-go's reflector: minWatchTimeout = 5 min, each watch asks for a timeout in [5, 10) minutes.
export const DEFAULT_MIN_WATCH_TIMEOUT_MS = 300_000;

/**
 * The `timeoutSeconds` of one watch request: between the minimum and twice it (default 5 and 10
 * minutes), drawn anew for every watch, so that the watches of many replicas end (and re-list,
 * after a compaction) at different times. At least 1 s.
 */
export function watchTimeoutSeconds(
  random: () => number,
  minWatchTimeoutMs = DEFAULT_MIN_WATCH_TIMEOUT_MS,
): number {
  const min = minWatchTimeoutMs / 1000;
  return Math.max(1, Math.floor(min * (1 + Math.min(Math.max(random(), 0), 0.999))));
}

/** How often the watchdog looks: a quarter of the bound, at most every second. */
function watchdogInterval(silenceTimeoutMs: number): number {
  return Math.max(50, Math.min(1_000, Math.floor(silenceTimeoutMs / 4)));
}

/** True when an attempt whose last sign of life was at `lastProgressAtMs` has been silent too long. */
export function isSilent(lastProgressAtMs: number, nowMs: number, silenceTimeoutMs: number): boolean {
  return nowMs - lastProgressAtMs > silenceTimeoutMs;
}

export interface RestartPolicy {
  minBackoffMs: number;
  maxBackoffMs: number;
  resetBackoffAfterMs: number;
  /** A reconnect of the same cycle this soon after the previous one counts as rapid. */
  rapidReconnectMs: number;
  /** This many rapid reconnects in a row are treated as a failure (and so back off). */
  maxRapidReconnects: number;
}

export const DEFAULT_RESTART_POLICY: Readonly<RestartPolicy> = Object.freeze({
  minBackoffMs: 200,
  maxBackoffMs: 30_000,
  resetBackoffAfterMs: 60_000,
  // One quick reconnect is normal (a resumed watch answered with 410 Gone, then a re-list);
  // several in a row are a loop.
  rapidReconnectMs: 1_000,
  maxRapidReconnects: 3,
});

export interface RestartState {
  /** Consecutive failures so far, before the one being planned for. */
  failures: number;
  /** When the failed attempt last listed successfully; undefined if it never did. */
  listedAtMs: number | undefined;
}

export interface RestartPlan {
  failures: number;
  delayMs: number;
}

/**
 * Decides how long to wait before re-listing after a failure. The ceiling doubles per consecutive
 * failure from 2·min up to max, and the delay is drawn uniformly from [min, ceiling] ("full jitter"
 * with a floor) so that many operators cut off by the same API server restart do not all come back
 * in the same instant. An attempt that stayed up for `resetBackoffAfterMs` counts as healthy and
 * the count starts over; one that listed but failed soon after does not, or a flapping watch would
 * re-list at the minimum delay forever.
 */
export function planRestart(
  state: RestartState,
  nowMs: number,
  policy: RestartPolicy,
  random: () => number,
): RestartPlan {
  const healthy = state.listedAtMs !== undefined && nowMs - state.listedAtMs >= policy.resetBackoffAfterMs;
  const failures = (healthy ? 0 : state.failures) + 1;
  const ceiling = Math.min(policy.maxBackoffMs, policy.minBackoffMs * 2 ** failures);
  const delayMs = Math.round(policy.minBackoffMs + random() * Math.max(0, ceiling - policy.minBackoffMs));
  return { failures, delayMs };
}

/**
 * The length of the current streak of rapid reconnects, given the previous streak and the time
 * since the previous connect. Any reconnect that is not rapid ends the streak.
 */
export function rapidReconnectStreak(
  streak: number,
  sincePreviousConnectMs: number,
  policy: Pick<RestartPolicy, 'rapidReconnectMs'>,
): number {
  return sincePreviousConnectMs < policy.rapidReconnectMs ? streak + 1 : 0;
}

/**
 * The whole list, read page by page: `limit` objects per request, following `continue` until the
 * server sends none. All pages are one snapshot at the first page's resourceVersion, which the
 * result carries (the watch starts there). Each object goes through `transform` as its page
 * arrives, so only the transformed objects outlive their page. `proceed` is asked before each
 * further page; when it returns false the list is abandoned with `abandon()`'s error. An expired
 * continue token (410, after an etcd compaction) fails the list like any other error: the caller
 * lists again from the start.
 */
export async function listAllPages<T extends KubernetesObject>(
  listPage: (page: ListPage) => Promise<KubernetesListObject<T>>,
  opts: {
    pageSize?: number;
    transform?: (obj: T) => T;
    proceed?: () => boolean;
    abandon?: () => Error;
    /** Called as each page arrives (the watchdog counts it as a sign of life). */
    onPage?: () => void;
  } = {},
): Promise<KubernetesListObject<T>> {
  const limit = opts.pageSize ?? DEFAULT_PAGE_SIZE;
  const transform = opts.transform ?? ((obj: T) => obj);
  const items: T[] = [];
  let first: KubernetesListObject<T> | undefined;
  let resourceVersion: string | undefined;
  let next: string | undefined;
  do {
    if (first && opts.proceed && !opts.proceed()) throw opts.abandon?.() ?? new Error('list abandoned');
    const page = await listPage(next === undefined ? { limit } : { limit, continue: next });
    opts.onPage?.();
    first ??= page;
    resourceVersion ??= page.metadata?.resourceVersion;
    for (const obj of page.items ?? []) items.push(transform(obj));
    next = continueToken(page) || undefined;
  } while (next !== undefined);
  return {
    ...(first?.apiVersion !== undefined ? { apiVersion: first.apiVersion } : {}),
    ...(first?.kind !== undefined ? { kind: first.kind } : {}),
    metadata: resourceVersion !== undefined ? { resourceVersion } : {},
    items,
  };
}

// client-node's typed lists (V1SecretList) call it `_continue`; an untyped (custom object) list
// is the API server's JSON, `continue`.
function continueToken(list: KubernetesListObject<KubernetesObject>): string | undefined {
  const meta = list.metadata as { _continue?: unknown; continue?: unknown } | undefined;
  const token = meta?._continue ?? meta?.continue;
  return typeof token === 'string' ? token : undefined;
}

// Thrown by our list function to a cycle that has been superseded, so it does not go on to open a
// watch nobody will stop.
class StaleAttemptError extends Error {
  override name = 'StaleAttemptError';
}

type Verb = 'add' | 'update' | 'delete';

export class RestartingInformer<T extends KubernetesObject> {
  private readonly opts: InformerOptions<T>;
  private readonly policy: RestartPolicy;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly timers: InformerTimers;

  private readonly cache: CacheMap<T> = new Map();
  private readonly callbacks: Record<Verb, ObjectCallback<T>[]> = { add: [], update: [], delete: [] };
  private readonly restartCallbacks: (() => void)[] = [];

  // Bumped whenever an attempt ends (failure or stop); callbacks from older attempts are ignored.
  private attempt = 0;
  private current: ListWatchCycle<T> | undefined;
  private failures = 0;
  private listedAtMs: number | undefined;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  private watchdogTimer: ReturnType<typeof setTimeout> | undefined;
  // The last sign of life of the current attempt (its start, a list page, a watch event).
  private lastProgressAtMs = 0;
  // Set once the API server refused a streaming list: paged lists from then on.
  private watchListRefused: boolean;
  // When the current attempt started listing: "informer synced" logs how long the list took.
  private attemptStartedAtMs = 0;
  private currentAtMs: number | undefined;
  private readonly silenceTimeoutMs: number;
  private stopped = false;
  private isSynced = false;
  private started: Promise<void> | undefined;
  private resolveStarted: (() => void) | undefined;

  constructor(opts: InformerOptions<T>) {
    this.opts = opts;
    this.policy = {
      minBackoffMs: opts.minBackoffMs ?? DEFAULT_RESTART_POLICY.minBackoffMs,
      maxBackoffMs: opts.maxBackoffMs ?? DEFAULT_RESTART_POLICY.maxBackoffMs,
      resetBackoffAfterMs: opts.resetBackoffAfterMs ?? DEFAULT_RESTART_POLICY.resetBackoffAfterMs,
      rapidReconnectMs: DEFAULT_RESTART_POLICY.rapidReconnectMs,
      maxRapidReconnects: DEFAULT_RESTART_POLICY.maxRapidReconnects,
    };
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
    this.timers = opts.timers ?? { setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout };
    this.silenceTimeoutMs = opts.silenceTimeoutMs ?? DEFAULT_SILENCE_TIMEOUT_MS;
    this.watchListRefused = opts.streamingList === false;
  }

  /**
   * When the cache was last known current (epoch ms): the end of the last list, or the last watch
   * event or bookmark. undefined before the first list. It is not reset by a failure: while the
   * informer cannot reach the API server the cache only gets older.
   */
  get lastCurrentAt(): number | undefined {
    return this.currentAtMs;
  }

  /** True once the first list has been loaded into the cache; stays true across restarts. */
  get synced(): boolean {
    return this.isSynced;
  }

  /** Register before start() to see every object of the initial list as an 'add'. */
  on(event: Verb, cb: (obj: T) => void): void {
    this.callbacks[event].push((obj) => {
      // One throwing handler must neither skip the others nor fail the list that delivered it.
      try {
        cb(obj);
      } catch (err) {
        this.opts.log.warn(
          { informer: this.opts.name, event, err: summarizeError(err) },
          'informer handler threw',
        );
      }
    });
  }

  /**
   * Called after every re-list once synced: after a restart that followed an error, and after
   * a cycle re-lists by itself on 410 Gone. Events may have been missed during the gap (the
   * diff covers objects, not side effects such as a failed reconcile), so callers re-enqueue all.
   */
  onRestart(cb: () => void): void {
    this.restartCallbacks.push(cb);
  }

  /**
   * Resolves once the first list is in the cache. Never rejects: a failing first list is retried
   * with backoff until it succeeds or stop() is called (which resolves it with `synced` false).
   */
  start(): Promise<void> {
    if (!this.started) {
      this.started = new Promise((resolve) => {
        this.resolveStarted = resolve;
      });
      if (this.stopped) this.resolveStarted?.();
      else this.connect();
    }
    return this.started;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.attempt++;
    if (this.restartTimer !== undefined) this.timers.clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    if (this.watchdogTimer !== undefined) this.timers.clearTimeout(this.watchdogTimer);
    this.watchdogTimer = undefined;
    this.resolveStarted?.();
    const informer = this.current;
    this.current = undefined;
    if (informer) await informer.stop();
  }

  /**
   * Objects in the cache, all of them or those of one namespace ('' = cluster-scoped). These are
   * the cached objects themselves, shared with every reader: never mutate them, copy first.
   */
  list(namespace?: string): T[] {
    if (namespace === undefined) return [...this.cache.values()].flatMap((objects) => [...objects.values()]);
    return [...(this.cache.get(namespace)?.values() ?? [])];
  }

  /** Every cached object, without copying them into an array first; read-only like `list`. */
  *values(): IterableIterator<T> {
    for (const objects of this.cache.values()) yield* objects.values();
  }

  /** The cached object, or undefined; read-only like the results of `list`. */
  get(name: string, namespace?: string): T | undefined {
    return this.cache.get(namespace ?? '')?.get(name);
  }

  private connect(): void {
    if (this.stopped) return;
    const attempt = ++this.attempt;
    const isCurrent = () => attempt === this.attempt;
    this.listedAtMs = undefined;
    this.lastProgressAtMs = this.now();
    this.attemptStartedAtMs = this.lastProgressAtMs;
    const progress = () => {
      if (isCurrent()) this.lastProgressAtMs = this.now();
    };

    const transform = this.opts.transform ?? ((obj: T) => obj);
    // The list goes into our cache here; the cycle keeps only its resourceVersion to watch from.
    const listFn = async (): Promise<KubernetesListObject<T>> => {
      const list = await listAllPages(this.opts.list, {
        ...(this.opts.pageSize !== undefined ? { pageSize: this.opts.pageSize } : {}),
        transform,
        proceed: isCurrent,
        abandon: () => new StaleAttemptError('superseded attempt'),
        onPage: progress,
      });
      if (!isCurrent()) throw new StaleAttemptError('superseded attempt');
      this.applyList(list);
      return list;
    };
    const onObject = (phase: ObjectEvent, raw: T): void => {
      if (!isCurrent()) {
        void informer.stop();
        return;
      }
      const obj = transform(raw);
      if (phase === 'DELETED') deleteObject(this.cache, obj, this.callbacks.delete);
      else addOrUpdateObject(this.cache, obj, this.callbacks.add, this.callbacks.update);
    };
    // Any event of the current watch, bookmarks included, says the stream is alive and (once the
    // list is applied) the cache current up to that point.
    const onEvent = (current: boolean): void => {
      if (!isCurrent()) return;
      progress();
      if (current) this.currentAtMs = this.lastProgressAtMs;
    };
    // The streaming list (list-watch.ts), until the server refuses it once.
    const watchList = this.watchListRefused
      ? undefined
      : {
          transform,
          apply: (items: T[]) => {
            if (!isCurrent()) throw new StaleAttemptError('superseded attempt');
            this.applyList({ items, metadata: {} });
          },
          refused: () => {
            if (this.watchListRefused) return;
            this.watchListRefused = true;
            this.opts.log.info(
              { informer: this.opts.name },
              'the API server does not stream lists; listing in pages',
            );
          },
        };
    const informer = new ListWatchCycle<T>({
      client: this.opts.client,
      path: this.opts.path,
      ...(this.opts.labelSelector !== undefined ? { labelSelector: this.opts.labelSelector } : {}),
      list: listFn,
      ...(watchList ? { watchList } : {}),
      onObject,
      onEvent,
      timeoutSeconds: () => watchTimeoutSeconds(this.random, this.opts.minWatchTimeoutMs),
    });
    this.current = informer;

    informer.on('error', (err?: unknown) => this.fail(attempt, informer, err));

    // 'connect' fires each time the cycle (re)starts a list or watch, including its own resumes.
    let lastConnectAtMs: number | undefined;
    let streak = 0;
    informer.on('connect', () => {
      if (!isCurrent()) return;
      const now = this.now();
      if (lastConnectAtMs !== undefined) {
        streak = rapidReconnectStreak(streak, now - lastConnectAtMs, this.policy);
        if (streak >= this.policy.maxRapidReconnects) {
          // The cycle goes on regardless: a list is refused by listFn, and a watch is one the
          // server (which is closing them at once) ends by itself.
          this.fail(attempt, informer, new Error(`watch reconnected ${streak} times in quick succession`));
          return;
        }
      }
      lastConnectAtMs = now;
    });

    this.opts.log.debug({ informer: this.opts.name, failures: this.failures }, 'informer connecting');
    this.armWatchdog(attempt, informer);
    informer.start().then(
      () => {
        if (!isCurrent()) void informer.stop();
      },
      (err: unknown) => this.fail(attempt, informer, err),
    );
  }

  /**
   * Checks the attempt for silence a few times per `silenceTimeoutMs` until it ends; a silent one is
   * failed like an erroring one (a fresh list after a jittered backoff).
   */
  private armWatchdog(attempt: number, informer: ListWatchCycle<T>): void {
    if (this.watchdogTimer !== undefined) this.timers.clearTimeout(this.watchdogTimer);
    const check = (): void => {
      this.watchdogTimer = undefined;
      if (attempt !== this.attempt || this.stopped) return;
      if (isSilent(this.lastProgressAtMs, this.now(), this.silenceTimeoutMs)) {
        this.fail(
          attempt,
          informer,
          new Error(`no list page, watch event or bookmark for ${Math.round(this.silenceTimeoutMs / 1000)}s`),
        );
        return;
      }
      this.watchdogTimer = this.timers.setTimeout(check, watchdogInterval(this.silenceTimeoutMs));
      (this.watchdogTimer as { unref?: () => void }).unref?.();
    };
    this.watchdogTimer = this.timers.setTimeout(check, watchdogInterval(this.silenceTimeoutMs));
    (this.watchdogTimer as { unref?: () => void }).unref?.();
  }

  private applyList(list: KubernetesListObject<T>): void {
    const items = list.items ?? [];
    deleteMissing(this.cache, items, this.callbacks.delete);
    for (const obj of items) addOrUpdateObject(this.cache, obj, this.callbacks.add, this.callbacks.update);
    this.listedAtMs = this.now();
    this.lastProgressAtMs = this.listedAtMs;
    this.currentAtMs = this.listedAtMs;

    if (!this.isSynced) {
      this.isSynced = true;
      this.opts.log.info(
        {
          informer: this.opts.name,
          objects: items.length,
          listMs: this.listedAtMs - this.attemptStartedAtMs,
        },
        'informer synced',
      );
      this.resolveStarted?.();
      return;
    }
    this.opts.log.info({ informer: this.opts.name, objects: items.length }, 'informer re-listed');
    for (const cb of this.restartCallbacks) {
      try {
        cb();
      } catch (err) {
        this.opts.log.warn(
          { informer: this.opts.name, err: summarizeError(err) },
          'informer restart handler threw',
        );
      }
    }
  }

  private fail(attempt: number, informer: ListWatchCycle<T>, err: unknown): void {
    if (attempt !== this.attempt || this.stopped) return;
    this.attempt++;
    // The cycle has ended its own request already; stop() also keeps it from resuming.
    void informer.stop();
    if (this.current === informer) this.current = undefined;

    const plan = planRestart(
      { failures: this.failures, listedAtMs: this.listedAtMs },
      this.now(),
      this.policy,
      this.random,
    );
    this.failures = plan.failures;
    this.opts.log.warn(
      {
        informer: this.opts.name,
        failures: plan.failures,
        retryInMs: plan.delayMs,
        synced: this.isSynced,
        err: summarizeError(err),
      },
      'informer failed; restarting with a fresh list',
    );
    this.restartTimer = this.timers.setTimeout(() => {
      this.restartTimer = undefined;
      this.connect();
    }, plan.delayMs);
  }
}
