import { describe, expect, it } from 'vitest';
import type { ScimDomain, ScimTokenRotation } from '../api/types.js';
import type { Condition } from '../rules/conditions.js';
import { domainState, rotationState, secretNameOf } from './status.js';

const cond = (type: string, status: 'True' | 'False', reason: string, observedGeneration = 1): Condition => ({
  type,
  status,
  reason,
  message: `${reason} message`,
  lastTransitionTime: '2026-01-01T00:00:00Z',
  observedGeneration,
});
const token = {
  id: 'tok-a',
  fingerprint: 'sha256:aaaaaaaaaaaa',
  sha256: 'a'.repeat(64),
  issuedAt: '2026-01-01T00:00:00Z',
  generation: 1,
};
const domain = (
  conditions: Condition[] | undefined,
  extra: Partial<ScimDomain['status']> = {},
): ScimDomain => ({
  metadata: { name: 'd', namespace: 'ns', generation: 1 },
  spec: { domain: 'd.example' },
  ...(conditions ? { status: { conditions, ...extra } } : {}),
});

describe('domainState', () => {
  it('is ready with Ready=True for the current generation and a token', () => {
    expect(domainState(domain([cond('Ready', 'True', 'TokenIssued')], { token }))).toEqual({
      kind: 'ready',
      token,
    });
  });

  it.each([
    ['no status yet', domain(undefined), 'NotReconciled'],
    [
      'a condition of an older generation',
      domain([cond('Ready', 'True', 'TokenIssued', 0)], { token }),
      'Reconciling',
    ],
    ['an API error (retried by the operator)', domain([cond('Ready', 'False', 'ApiError')]), 'ApiError'],
  ])('is pending with %s', (_what, d, reason) => {
    expect(domainState(d)).toMatchObject({ kind: 'pending', reason });
  });

  it.each(['Suspended', 'DomainConflict', 'SecretConflict', 'InvalidSpec'])(
    'has failed with Ready=False %s',
    (reason) => {
      expect(domainState(domain([cond('Ready', 'False', reason)]))).toMatchObject({ kind: 'failed', reason });
    },
  );

  it('has failed when suspended, which reads Ready=True Suspended without a token', () => {
    expect(
      domainState({
        ...domain([cond('Ready', 'True', 'Suspended')]),
        spec: { domain: 'd.example', suspend: true },
      }),
    ).toMatchObject({ kind: 'failed', reason: 'Suspended' });
  });

  it('has failed when Stalled, with the Stalled reason', () => {
    expect(
      domainState(domain([cond('Ready', 'False', 'Issuing'), cond('Stalled', 'True', 'DomainConflict')])),
    ).toMatchObject({
      kind: 'failed',
      reason: 'DomainConflict',
    });
  });
});

describe('rotationState', () => {
  const rotation = (conditions: Condition[] | undefined): ScimTokenRotation => ({
    metadata: { name: 'r', namespace: 'ns', generation: 1 },
    spec: { domainRef: { name: 'd' } },
    ...(conditions
      ? { status: { conditions, newToken: { id: 'tok-n', fingerprint: 'sha256:bbbbbbbbbbbb' } } }
      : {}),
  });

  it('is rotated with Ready=True Rotated', () => {
    expect(rotationState(rotation([cond('Ready', 'True', 'Rotated')]))).toMatchObject({
      kind: 'rotated',
      newToken: { fingerprint: 'sha256:bbbbbbbbbbbb' },
    });
  });

  it('has failed when Stalled', () => {
    expect(
      rotationState(
        rotation([cond('Ready', 'False', 'DomainNotFound'), cond('Stalled', 'True', 'DomainNotFound')]),
      ),
    ).toMatchObject({
      kind: 'failed',
      reason: 'DomainNotFound',
    });
  });

  it('is pending while the operator retries (Ready=False without Stalled) or has not seen it', () => {
    expect(rotationState(rotation([cond('Ready', 'False', 'ProvisioningNotEnabled')]))).toMatchObject({
      kind: 'pending',
      reason: 'ProvisioningNotEnabled',
    });
    expect(rotationState(rotation(undefined))).toMatchObject({ kind: 'pending', reason: 'NotReconciled' });
  });
});

describe('secretNameOf', () => {
  it('prefers status, then spec, then <name>-scim-token', () => {
    expect(
      secretNameOf({
        ...domain(undefined),
        status: { secretName: 'from-status' },
        spec: { domain: 'x', secretName: 'from-spec' },
      }),
    ).toBe('from-status');
    expect(secretNameOf({ ...domain(undefined), spec: { domain: 'x', secretName: 'from-spec' } })).toBe(
      'from-spec',
    );
    expect(secretNameOf(domain(undefined))).toBe('d-scim-token');
  });
});
