// Unit tests for what the informer caches keep of an object (kube/trim.ts).
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { LAST_APPLIED_ANNOTATION, withoutApplyBookkeeping, withoutManagedFields } from './trim.js';

const managedFields = [
  {
    manager: 'kubectl',
    operation: 'Apply',
    apiVersion: 'v1',
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:metadata': { 'f:labels': {} } },
  },
];

function secret(): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'scim.tokens.dev/token',
    metadata: {
      name: 's',
      namespace: 'ns',
      uid: 'u-1',
      resourceVersion: '42',
      labels: { 'app.kubernetes.io/managed-by': 'scim-token-operator', team: 'a' },
      annotations: { [LAST_APPLIED_ANNOTATION]: '{"kind":"Secret"}', note: 'kept' },
      ownerReferences: [{ apiVersion: 'x/v1', kind: 'ScimDomain', name: 'd', uid: 'u-0', controller: true }],
      managedFields,
    },
    data: { token: 'dG9rZW4=', sha256: 'YWJj', extra: 'eA==' },
  };
}

function domain(annotations?: Record<string, string>): KubernetesObject & Record<string, unknown> {
  return {
    apiVersion: 'scim.tokens.dev/v1alpha1',
    kind: 'ScimDomain',
    metadata: {
      name: 'd',
      namespace: 'ns',
      uid: 'u-0',
      resourceVersion: '7',
      generation: 3,
      labels: { team: 'a' },
      ...(annotations ? { annotations } : {}),
      managedFields,
    },
    spec: { domain: 'example.com' },
    status: { conditions: [] },
  };
}

describe('withoutManagedFields', () => {
  it('drops managedFields and keeps everything else of a Secret, including every annotation', () => {
    const { metadata, ...rest } = secret();
    const { managedFields: _m, ...expectedMetadata } = metadata!;
    expect(withoutManagedFields(secret())).toEqual({ ...rest, metadata: expectedMetadata });
  });

  it('returns the object it was given', () => {
    const s = secret();
    expect(withoutManagedFields(s)).toBe(s);
    expect(s.metadata).not.toHaveProperty('managedFields');
  });

  it('leaves an object without managedFields untouched', () => {
    const s = secret();
    delete s.metadata!.managedFields;
    const metadata = s.metadata;
    expect(withoutManagedFields(s).metadata).toBe(metadata);
  });

  it('accepts an object without metadata', () => {
    expect(withoutManagedFields({ kind: 'Secret' })).toEqual({ kind: 'Secret' });
  });
});

describe('withoutApplyBookkeeping', () => {
  it('drops managedFields and the last-applied annotation, keeping other annotations and the rest', () => {
    const d = withoutApplyBookkeeping(domain({ [LAST_APPLIED_ANNOTATION]: '{"spec":{}}', note: 'kept' }));
    const { managedFields: _m, ...metadata } = domain().metadata!;
    expect(d).toEqual({ ...domain(), metadata: { ...metadata, annotations: { note: 'kept' } } });
  });

  it('keeps an empty annotation map when last-applied was the only annotation', () => {
    expect(
      withoutApplyBookkeeping(domain({ [LAST_APPLIED_ANNOTATION]: '{}' })).metadata?.annotations,
    ).toEqual({});
  });

  it('drops managedFields of an object without annotations, adding none', () => {
    const d = withoutApplyBookkeeping(domain());
    expect(d.metadata).not.toHaveProperty('managedFields');
    expect(d.metadata).not.toHaveProperty('annotations');
    expect(d.metadata).toMatchObject({
      name: 'd',
      namespace: 'ns',
      uid: 'u-0',
      resourceVersion: '7',
      generation: 3,
    });
  });

  it('leaves an object with neither untouched', () => {
    const d = domain({ note: 'kept' });
    delete d.metadata!.managedFields;
    const metadata = d.metadata;
    expect(withoutApplyBookkeeping(d).metadata).toBe(metadata);
  });
});
