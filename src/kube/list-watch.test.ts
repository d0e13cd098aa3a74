import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { addOrUpdateObject, deleteMissing, deleteObject, type CacheMap } from './list-watch.js';

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
