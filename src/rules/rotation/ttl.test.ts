import { describe, expect, it } from 'vitest';
import type { ScimTokenRotation } from '../../api/types.js';
import type { Condition } from '../conditions.js';
import { rotationTtl } from './ttl.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const cond = (type: string, status: 'True' | 'False', reason: string, at: string): Condition => ({
  type,
  status,
  reason,
  message: reason,
  lastTransitionTime: at,
});
const rotated = {
  conditions: [cond('Ready', 'True', 'Rotated', '2026-03-01T11:00:00Z')],
  rotatedAt: '2026-03-01T11:00:00Z',
};
const stalled = {
  conditions: [
    cond('Ready', 'False', 'DomainNotFound', '2026-03-01T10:00:00Z'),
    cond('Stalled', 'True', 'DomainNotFound', '2026-03-01T10:30:00Z'),
  ],
};

function rotation(
  spec: Partial<ScimTokenRotation['spec']>,
  status?: ScimTokenRotation['status'],
  deleting = false,
) {
  return {
    metadata: { name: 'r', namespace: 'ns', uid: 'u', ...(deleting ? { deletionTimestamp: NOW } : {}) },
    spec: { domainRef: { name: 'd' }, ...spec },
    ...(status ? { status } : {}),
  } as ScimTokenRotation;
}

describe('rotationTtl', () => {
  it.each([
    [
      'a rotation without a TTL, however old',
      rotation({}, rotated),
      { kind: 'keep', why: 'no spec.ttlSecondsAfterFinished' },
    ],
    [
      'a scheduled rotation',
      rotation({ ttlSecondsAfterFinished: 0, schedule: '@daily' }, rotated),
      { kind: 'keep', why: 'a scheduled rotation never finishes' },
    ],
    [
      'one not picked up yet',
      rotation({ ttlSecondsAfterFinished: 0 }),
      { kind: 'keep', why: 'not completed' },
    ],
    [
      'one waiting for its domain',
      rotation(
        { ttlSecondsAfterFinished: 0 },
        { conditions: [cond('Ready', 'False', 'DomainNotFound', '2026-03-01T11:59:00Z')] },
      ),
      { kind: 'keep', why: 'not completed' },
    ],
    [
      'one already being deleted',
      rotation({ ttlSecondsAfterFinished: 0 }, rotated, true),
      { kind: 'keep', why: 'already being deleted' },
    ],
    [
      'a rotated one inside its TTL',
      rotation({ ttlSecondsAfterFinished: 7200 }, rotated),
      { kind: 'wait', afterMs: 3_600_000 },
    ],
    [
      'a rotated one at the end of its TTL',
      rotation({ ttlSecondsAfterFinished: 3600 }, rotated),
      { kind: 'delete', finishedAt: '2026-03-01T11:00:00Z' },
    ],
    [
      'a rotated one with TTL 0',
      rotation({ ttlSecondsAfterFinished: 0 }, rotated),
      { kind: 'delete', finishedAt: '2026-03-01T11:00:00Z' },
    ],
    [
      'a stalled one past its TTL, from when it stalled',
      rotation({ ttlSecondsAfterFinished: 60 }, stalled),
      { kind: 'delete', finishedAt: '2026-03-01T10:30:00Z' },
    ],
    [
      'a stalled one inside its TTL',
      rotation({ ttlSecondsAfterFinished: 7200 }, stalled),
      { kind: 'wait', afterMs: 30 * 60_000 },
    ],
    [
      'a Rotated condition without rotatedAt (a hand-written status)',
      rotation({ ttlSecondsAfterFinished: 0 }, { conditions: rotated.conditions }),
      { kind: 'keep', why: 'not completed' },
    ],
  ])('%s', (_what, r, want) => {
    expect(rotationTtl(r, NOW)).toEqual(want);
  });
});
