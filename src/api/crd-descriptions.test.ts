// `kubectl explain` teaches the API only if every property of both CRDs says what it is. Reads the
// CRD files (the single source in crds/) and fails naming each property without a description.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadYaml } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';

interface Schema {
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
}

interface Crd {
  spec: { names: { kind: string }; versions: { name: string; schema: { openAPIV3Schema: Schema } }[] };
}

const CRD_DIR = path.join(import.meta.dirname, '../../crds');
const files = readdirSync(CRD_DIR).filter((f) => f.endsWith('.yaml'));

/** The dotted path of every property (at any depth, through array items) that lacks a description. */
function undescribed(schema: Schema, at: string, root = false): string[] {
  const missing: string[] = [];
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    // The API server refuses anything but name/generateName under the root's metadata; kubectl explain
    // shows ObjectMeta's own documentation there.
    if (root && name === 'metadata') continue;
    const here = `${at}.${name}`;
    if (!prop.description?.trim()) missing.push(here);
    missing.push(...undescribed(prop, here));
  }
  if (schema.items) missing.push(...undescribed(schema.items, `${at}[]`));
  return missing;
}

describe('undescribed', () => {
  it.each([
    [{ description: 'x', properties: { a: { description: 'a' } } }, []],
    [{ properties: { a: {} } }, ['r.a']],
    [{ properties: { a: { description: ' ' } } }, ['r.a']],
    [{ properties: { a: { description: 'a', properties: { b: {} } } } }, ['r.a.b']],
    [{ properties: { l: { description: 'l', items: { properties: { x: {} } } } } }, ['r.l[].x']],
    [
      { properties: { metadata: {}, spec: { description: 's', properties: { metadata: {} } } } },
      ['r.spec.metadata'],
    ],
  ] as [Schema, string[]][])('finds the properties without a description in %j', (schema, want) => {
    expect(undescribed(schema, 'r', true)).toEqual(want);
  });
});

describe('the CRDs in crds/', () => {
  it('are both there', () => {
    expect(files).toHaveLength(2);
  });

  it.each(files)('%s describes every property, so kubectl explain explains it', (file) => {
    const crd = loadYaml<Crd>(readFileSync(path.join(CRD_DIR, file), 'utf8'));
    for (const version of crd.spec.versions) {
      const root = version.schema.openAPIV3Schema;
      const kind = crd.spec.names.kind.toLowerCase();
      expect(root.description, `${kind} (${version.name})`).toBeTruthy();
      expect(
        undescribed(root, kind, true),
        `properties of ${kind} ${version.name} without a description`,
      ).toEqual([]);
    }
  });
});
