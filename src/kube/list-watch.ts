// One list-then-watch cycle of an informer, and the object cache it feeds (kube/informer.ts owns
// when cycles start, fail and back off). Behaves as client-node 1.4's ListWatch did for us, without
// loading client-node (see kube/connection.ts for why):
// - start() lists and opens a watch from the list's resourceVersion; 'connect' is emitted before
//   each list or watch.
// - The list is a streaming one where the API server offers it (`sendInitialEvents`, KEP-3157, as
//   client-go's WatchListClient does): one watch request that first sends every object as an ADDED
//   event, then a bookmark marked `k8s.io/initial-events-end`, then the changes. Served from the
//   API server's watch cache after it has caught up with etcd (a consistent read), one object per
//   line: 10,000 ScimDomains arrive in a third of the time of 20 pages of 500 (which a 1.37 API
//   server reads from etcd page by page), and are never one response held in memory at once
//   (a single unpaged response costs ~35 MB more peak RSS; docs/benchmarks.md). A server that
//   refuses it (400/422/403, or a bookmark before the end of the initial events) gets paged lists
//   (`list`) from then on.
// - a watch the server ends cleanly (its timeoutSeconds) is opened again from the last
//   resourceVersion seen; one that ends with 410 Gone, or sends an ERROR event with 410, is
//   followed by a fresh list first.
// - any other failure is emitted as 'error', once, and the cycle stops: the informer decides.
import type { KubernetesObject } from '@kubernetes/client-node';
import { ApiError, type KubeClient, type Query, type WatchHandle } from './client.js';

export type ObjectEvent = 'ADDED' | 'MODIFIED' | 'DELETED';

/** Objects by namespace ('' for cluster-scoped), then by name. */
export type CacheMap<T> = Map<string, Map<string, T>>;

export type ObjectCallback<T> = (obj: T) => void;

export interface ListWatchOptions<T extends KubernetesObject> {
  client: KubeClient;
  path: string;
  labelSelector?: string;
  /** The whole list, paged (the informer caches it); the cycle keeps only its resourceVersion. */
  list: () => Promise<{ metadata?: { resourceVersion?: string } }>;
  /** A streaming list instead of `list`, while the server offers one (see above). */
  watchList?: {
    transform: (obj: T) => T;
    /** The initial objects, complete: the informer applies them as it applies a list. May throw. */
    apply: (items: T[]) => void;
    /** The server does not stream lists: `list` from now on. */
    refused: () => void;
  };
  /** Each watched object, in order. */
  onObject: (phase: ObjectEvent, obj: T) => void;
  /**
   * Every watch event, bookmarks and errors included, before it is handled; `current` is false for
   * the initial events of a streaming list (the cache is not current until they are all applied).
   */
  onEvent: (current: boolean) => void;
  /** The server-side timeout of the next watch request. */
  timeoutSeconds: () => number;
}

export const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

/** An API server that does not know or allow `sendInitialEvents` answers the watch with one of these. */
function refusesWatchList(err: unknown): boolean {
  return err instanceof ApiError && [400, 403, 422].includes(err.code);
}

function isGone(err: unknown): boolean {
  return err instanceof ApiError ? err.code === 410 : (err as { code?: unknown } | null)?.code === 410;
}

export class ListWatchCycle<T extends KubernetesObject> {
  private readonly errorCallbacks: ((err: unknown) => void)[] = [];
  private readonly connectCallbacks: (() => void)[] = [];
  private resourceVersion = '';
  private stopped = false;
  private request: WatchHandle | undefined;
  private streamRefused = false;

  constructor(private readonly opts: ListWatchOptions<T>) {}

  on(event: 'error', cb: (err: unknown) => void): void;
  on(event: 'connect', cb: () => void): void;
  on(event: 'error' | 'connect', cb: ((err: unknown) => void) | (() => void)): void {
    if (event === 'error') this.errorCallbacks.push(cb);
    else this.connectCallbacks.push(cb as () => void);
  }

  /** Lists and opens the watch; resolves once the watch request is sent or the cycle failed. */
  start(): Promise<void> {
    this.stopped = false;
    return this.next(null);
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.request?.abort();
    this.request = undefined;
    return Promise.resolve();
  }

  private emitError(err: unknown): void {
    for (const cb of this.errorCallbacks) cb(err);
  }

  private async next(err: unknown): Promise<void> {
    this.request?.abort();
    this.request = undefined;
    if (err !== null && err !== undefined) {
      if (!isGone(err)) {
        this.emitError(err);
        return;
      }
      this.resourceVersion = '';
    }
    if (this.stopped) return;
    for (const cb of this.connectCallbacks) cb();
    if (this.resourceVersion === '' && this.opts.watchList && !this.streamRefused)
      return this.streamList(this.opts.watchList);
    if (this.resourceVersion === '') {
      try {
        const list = await this.opts.list();
        this.resourceVersion = list.metadata?.resourceVersion ?? '';
      } catch (listErr) {
        this.emitError(listErr);
        return;
      }
      if (this.stopped) return;
    }
    const query: Query = {
      resourceVersion: this.resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds: this.opts.timeoutSeconds(),
      labelSelector: this.opts.labelSelector,
    };
    try {
      const handle = await this.opts.client.watch(
        this.opts.path,
        query,
        (event) => this.handle(event.type, event.object),
        (doneErr) => void this.next(doneErr),
      );
      if (this.stopped) handle.abort();
      else this.request = handle;
    } catch (watchErr) {
      this.emitError(watchErr);
    }
  }

  /** The list as a stream of ADDED events, then the watch on the same connection (see above). */
  private async streamList(watchList: NonNullable<ListWatchOptions<T>['watchList']>): Promise<void> {
    const items: T[] = [];
    let initial = true;
    let refused = false;
    const refuse = () => {
      refused = true;
      this.streamRefused = true;
      this.request?.abort();
      this.request = undefined;
      watchList.refused();
      void this.next(null);
    };
    const query: Query = {
      sendInitialEvents: true,
      resourceVersionMatch: 'NotOlderThan',
      allowWatchBookmarks: true,
      timeoutSeconds: this.opts.timeoutSeconds(),
      labelSelector: this.opts.labelSelector,
    };
    const onEvent = ({ type, object }: { type: string; object: unknown }) => {
      if (this.stopped || refused) return;
      if (!initial) return this.handle(type, object);
      this.opts.onEvent(false);
      if (typeof object !== 'object' || object === null) return;
      const meta = (object as KubernetesObject).metadata;
      if (type === 'ADDED') items.push(watchList.transform(object as T));
      else if (type === 'BOOKMARK' && meta?.annotations?.[INITIAL_EVENTS_END] === 'true') {
        initial = false;
        try {
          watchList.apply(items.splice(0));
        } catch (err) {
          this.request?.abort();
          this.emitError(err);
          return;
        }
        this.resourceVersion = meta.resourceVersion ?? '';
        this.opts.onEvent(true);
      } else if (type === 'BOOKMARK') refuse();
      // An ERROR event ends the stream; done() decides what follows.
    };
    try {
      const handle = await this.opts.client.watch(this.opts.path, query, onEvent, (err) => {
        if (refused) return;
        if (initial && refusesWatchList(err)) return refuse();
        // Ended before the initial events did: the next cycle streams the list again.
        if (initial && (err === null || err === undefined)) this.resourceVersion = '';
        void this.next(err);
      });
      if (this.stopped || refused) handle.abort();
      else this.request = handle;
    } catch (err) {
      this.emitError(err);
    }
  }

  private handle(type: string, object: unknown): void {
    if (this.stopped) return;
    this.opts.onEvent(true);
    if (typeof object !== 'object' || object === null) return;
    if (type === 'ERROR') {
      // The server ends the stream after it; a 410 means the next cycle must list again.
      if ((object as { code?: unknown }).code === 410) this.resourceVersion = '';
      return;
    }
    if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') this.opts.onObject(type, object as T);
    const rv = (object as KubernetesObject).metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
  }
}

function bucket<T extends KubernetesObject>(cache: CacheMap<T>, obj: T): Map<string, T> {
  const namespace = obj.metadata?.namespace ?? '';
  let objects = cache.get(namespace);
  if (!objects) {
    objects = new Map();
    cache.set(namespace, objects);
  }
  return objects;
}

/** Adds or replaces `obj`; an update with the same resourceVersion changes nothing and says nothing. */
export function addOrUpdateObject<T extends KubernetesObject>(
  cache: CacheMap<T>,
  obj: T,
  onAdd: readonly ObjectCallback<T>[],
  onUpdate: readonly ObjectCallback<T>[],
): void {
  const objects = bucket(cache, obj);
  const name = obj.metadata?.name ?? '';
  const found = objects.get(name);
  if (!found) {
    objects.set(name, obj);
    for (const cb of onAdd) cb(obj);
    return;
  }
  const rv = found.metadata?.resourceVersion;
  if (rv !== undefined && rv !== null && rv === obj.metadata?.resourceVersion) return;
  objects.set(name, obj);
  for (const cb of onUpdate) cb(obj);
}

export function deleteObject<T extends KubernetesObject>(
  cache: CacheMap<T>,
  obj: T,
  onDelete: readonly ObjectCallback<T>[],
): void {
  const namespace = obj.metadata?.namespace ?? '';
  const objects = cache.get(namespace);
  if (!objects?.delete(obj.metadata?.name ?? '')) return;
  if (objects.size === 0) cache.delete(namespace);
  for (const cb of onDelete) cb(obj);
}

/** Drops from the cache every object a fresh list no longer has, saying so for each. */
export function deleteMissing<T extends KubernetesObject>(
  cache: CacheMap<T>,
  listed: readonly T[],
  onDelete: readonly ObjectCallback<T>[],
): void {
  const present = new Set(listed.map((o) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`));
  for (const [namespace, objects] of cache) {
    for (const [name, obj] of objects) {
      if (present.has(`${namespace}/${name}`)) continue;
      objects.delete(name);
      for (const cb of onDelete) cb(obj);
    }
    if (objects.size === 0) cache.delete(namespace);
  }
}
