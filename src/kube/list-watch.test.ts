import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ApiError, type KubeClient, type Query, type WatchEvent } from './client.js';
import {
  INITIAL_EVENTS_END,
  ListWatchCycle,
  addOrUpdateObject,
  deleteMissing,
  deleteObject,
  type CacheMap,
} from './list-watch.js';

const obj = (namespace: string, name: string, resourceVersion = '1'): KubernetesObject => ({
  metadata: { namespace, name, resourceVersion },
});

function recorder() {
  const seen: string[] = [];
  const cb = (verb: string) => (o: KubernetesObject) =>
    seen.push(`${verb} ${o.metadata?.namespace}/${o.metadata?.name}@${o.metadata?.resourceVersion}`);
  return { seen, add: [cb('add')], update: [cb('update')], remove: [cb('delete')] };
}

describe('the informer cache', () => {
  it('adds, updates on a new resourceVersion only, and deletes', () => {
    const cache: CacheMap<KubernetesObject> = new Map();
    const r = recorder();
    addOrUpdateObject(cache, obj('a', 'x'), r.add, r.update);
    addOrUpdateObject(cache, obj('a', 'x'), r.add, r.update);
    addOrUpdateObject(cache, obj('a', 'x', '2'), r.add, r.update);
    deleteObject(cache, obj('a', 'x', '3'), r.remove);
    deleteObject(cache, obj('a', 'x', '3'), r.remove);
    expect(r.seen).toEqual(['add a/x@1', 'update a/x@2', 'delete a/x@3']);
    expect(cache.size).toBe(0);
  });

  it('drops what a fresh list no longer has, per namespace, and keeps the rest', () => {
    const cache: CacheMap<KubernetesObject> = new Map();
    const r = recorder();
    for (const o of [obj('a', 'x'), obj('a', 'y'), obj('b', 'x'), obj('', 'cluster')])
      addOrUpdateObject(cache, o, [], []);
    deleteMissing(cache, [obj('a', 'y'), obj('', 'cluster')], r.remove);
    expect(r.seen.sort()).toEqual(['delete a/x@1', 'delete b/x@1']);
    expect([...cache.keys()].sort()).toEqual(['', 'a']);
    expect([...cache.get('a')!.keys()]).toEqual(['y']);
  });
});

describe('ListWatchCycle, streaming list', () => {
  type Stream = { query: Query; onEvent: (e: WatchEvent) => void; done: (err: unknown) => void };
  function stubClient() {
    const streams: Stream[] = [];
    const client = {
      watch: (_path: string, query: Query, onEvent: Stream['onEvent'], done: Stream['done']) => {
        streams.push({ query, onEvent, done });
        return Promise.resolve({ abort: () => undefined });
      },
    } as unknown as KubeClient;
    return { client, streams };
  }
  const flush = () => new Promise((r) => setTimeout(r, 0));

  function cycle(client: KubeClient, calls: string[]) {
    return new ListWatchCycle<KubernetesObject>({
      client,
      path: '/x',
      list: () => {
        calls.push('list');
        return Promise.resolve({ metadata: { resourceVersion: '5' } });
      },
      watchList: {
        transform: (o) => o,
        apply: (items) => calls.push(`apply ${items.map((o) => o.metadata?.name).join(',')}`),
        refused: () => calls.push('refused'),
      },
      onObject: (phase, o) => calls.push(`${phase} ${o.metadata?.name}`),
      onEvent: (current) => calls.push(current ? 'event' : 'initial event'),
      timeoutSeconds: () => 300,
    });
  }

  it('applies the initial objects at the end bookmark, then goes on as the watch', async () => {
    const { client, streams } = stubClient();
    const calls: string[] = [];
    await cycle(client, calls).start();
    expect(streams[0]!.query).toMatchObject({
      sendInitialEvents: true,
      resourceVersionMatch: 'NotOlderThan',
    });
    const s = streams[0]!;
    s.onEvent({ type: 'ADDED', object: obj('a', 'x') });
    s.onEvent({ type: 'ADDED', object: obj('a', 'y') });
    s.onEvent({
      type: 'BOOKMARK',
      object: { metadata: { resourceVersion: '9', annotations: { [INITIAL_EVENTS_END]: 'true' } } },
    });
    s.onEvent({ type: 'MODIFIED', object: obj('a', 'x', '10') });
    expect(calls).toEqual([
      'initial event',
      'initial event',
      'initial event',
      'apply x,y',
      'event',
      'event',
      'MODIFIED x',
    ]);
  });

  it.each([400, 403, 422])('lists in pages, from then on, when the server answers %i', async (code) => {
    const { client, streams } = stubClient();
    const calls: string[] = [];
    await cycle(client, calls).start();
    streams[0]!.done(new ApiError(code, '', {}));
    await flush();
    expect(calls).toEqual(['refused', 'list']);
    expect(streams[1]!.query).toMatchObject({ resourceVersion: '5' });
    expect(streams[1]!.query).not.toHaveProperty('sendInitialEvents');
    // A 410 later: a new paged list, not a streaming one.
    streams[1]!.done(new ApiError(410, '', {}));
    await flush();
    expect(calls).toEqual(['refused', 'list', 'list']);
  });

  it('takes a bookmark before the end of the initial events for a server that ignored the request', async () => {
    const { client, streams } = stubClient();
    const calls: string[] = [];
    await cycle(client, calls).start();
    streams[0]!.onEvent({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '3' } } });
    await flush();
    expect(calls).toEqual(['initial event', 'refused', 'list']);
  });
});
