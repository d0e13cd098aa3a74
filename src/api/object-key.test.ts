// Unit tests for the one key format of objects in work queues and caches.
import { describe, expect, it } from 'vitest';
import { objectKey, splitObjectKey } from './object-key.js';

describe('objectKey', () => {
  it.each([
    { metadata: { namespace: 'team-a', name: 'example.com' }, key: 'team-a/example.com' },
    { metadata: { name: 'cluster-wide' }, key: 'cluster-wide' },
    { metadata: { namespace: '', name: 'cluster-wide' }, key: 'cluster-wide' },
  ])('names $metadata as "$key"', ({ metadata, key }) => {
    expect(objectKey({ metadata })).toBe(key);
  });

  it.each(['team-a/example.com', 'cluster-wide'])('splits "%s" back into what objectKey joined', (key) => {
    const { namespace, name } = splitObjectKey(key);
    expect(objectKey({ metadata: { name, ...(namespace === undefined ? {} : { namespace }) } })).toBe(key);
  });
});
