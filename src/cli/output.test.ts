import { loadYaml } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { renderObjects } from './output.js';

const a = { apiVersion: 'scim.tokens.dev/v1alpha1', kind: 'ScimDomain', metadata: { name: 'a' } };
const b = { ...a, metadata: { name: 'b' } };
const resource = 'scimdomain.scim.tokens.dev';

describe('renderObjects', () => {
  it('prints names as kubectl -o name does, one per line', () => {
    expect(renderObjects('name', [a, b], { resource, list: true })).toBe(
      'scimdomain.scim.tokens.dev/a\nscimdomain.scim.tokens.dev/b\n',
    );
  });

  it.each(['json', 'yaml'] as const)('prints several objects as a kubectl List in %s', (format) => {
    const text = renderObjects(format, [a, b], { resource, list: true });
    expect(loadYaml(text)).toEqual({
      apiVersion: 'v1',
      kind: 'List',
      metadata: { resourceVersion: '' },
      items: [a, b],
    });
  });

  it.each(['json', 'yaml'] as const)('prints one object as itself in %s', (format) => {
    expect(loadYaml(renderObjects(format, [a], { resource, list: false }))).toEqual(a);
  });

  it('prints an empty List, not nothing, when there are no objects', () => {
    expect(JSON.parse(renderObjects('json', [], { resource, list: true }))).toMatchObject({
      kind: 'List',
      items: [],
    });
  });
});
