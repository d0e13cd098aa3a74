import { describe, expect, it } from 'vitest';
import type { ScimDomain, ScimTokenRotation } from '../api/types.js';
import type { NewToken, SecretView } from './domain-plan.js';
import { planRotations, type RotationAction } from './rotation-plan.js';

const T0 = new Date('2026-11-29T12:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const sha = (c: string) => c.repeat(64);

function domain(
  over: Partial<ScimDomain['status']> = {},
  spec: Partial<ScimDomain['spec']> = {},
): ScimDomain {
  return {
    apiVersion: 'scim.tokens.dev/v1alpha1',
    kind: 'ScimDomain',
    metadata: { name: 'acme', namespace: 'ns', uid: 'd-uid', generation: 1, resourceVersion: '10' },
    spec: { domain: 'acme.example', ...spec },
    status: {
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'TokenIssued',
          message: '',
          lastTransitionTime: T0.toISOString(),
          observedGeneration: 1,
        },
      ],
      token: {
        id: 'tok-old',
        fingerprint: `sha256:${'a'.repeat(12)}`,
        sha256: sha('a'),
        issuedAt: T0.toISOString(),
        generation: 3,
      },
      ...over,
    },
  };
}

function rotation(
  name: string,
  createdS: number,
  spec: Partial<ScimTokenRotation['spec']> = {},
  status?: ScimTokenRotation['status'],
): ScimTokenRotation {
  return {
    apiVersion: 'scim.tokens.dev/v1alpha1',
    kind: 'ScimTokenRotation',
    metadata: {
      name,
      namespace: 'ns',
      uid: `${name}-uid`,
      generation: 1,
      resourceVersion: '5',
      creationTimestamp: at(createdS),
    },
    spec: { domainRef: { name: 'acme' }, ...spec },
    ...(status ? { status } : {}),
  };
}

const secret: SecretView = {
  name: 'acme-scim-token',
  uid: 's',
  resourceVersion: '7',
  controllerUid: 'd-uid',
  labels: {},
  annotations: {},
  data: {},
};
let n = 0;
const issue = (): NewToken => {
  n++;
  return {
    token: `sct_${String(n).padStart(46, '0')}`,
    id: `tok-new${n}`,
    sha256: sha('b'),
    fingerprint: `sha256:${'b'.repeat(12)}`,
  };
};
const kinds = (a: RotationAction[]) => a.map((x) => x.kind);

describe('planRotations', () => {
  it('applies a one-shot rotation: intent, Secret, domain commit, event, final status — in that order', () => {
    const plan = planRotations(
      { domain: domain(), secret, rotations: [rotation('r1', 0)] },
      { now: at(1), graceMs: 300_000, issue },
    );
    expect(kinds(plan.actions)).toEqual([
      'writeRotationStatus',
      'replaceSecret',
      'writeStatus',
      'event',
      'rotationEvent',
      'metric',
      'writeRotationStatus',
    ]);
    const [intent] = plan.actions;
    expect(intent).toMatchObject({
      status: {
        previousToken: { id: 'tok-old' },
        newToken: { id: expect.stringMatching(/^tok-new/) as string },
      },
    });
    const commit = plan.actions.find((a) => a.kind === 'writeStatus');
    expect(commit).toMatchObject({
      status: { appliedRotations: ['r1-uid'], revokedTokens: [{ id: 'tok-old', reason: 'Rotated' }] },
    });
  });

  it('applies only the oldest of several rotations per reconcile and asks to come back at once', () => {
    const plan = planRotations(
      { domain: domain(), secret, rotations: [rotation('r2', 2), rotation('r1', 1)] },
      { now: at(3), graceMs: 300_000, issue },
    );
    expect(plan.actions.filter((a) => a.kind === 'replaceSecret')).toHaveLength(1);
    expect(plan.actions[0]).toMatchObject({ name: 'r1' });
    expect(plan.requeueAfterMs).toBe(0);
  });

  it('finishes a rotation the domain already applied from its intent, without touching the token', () => {
    const d = domain({
      appliedRotations: ['r1-uid'],
      lastRotation: { name: 'r9', uid: 'r9-uid', time: at(5).toISOString() },
    });
    const intent = {
      previousToken: { id: 'tok-prev', fingerprint: 'sha256:cccccccccccc' },
      newToken: { id: 'tok-mid', fingerprint: 'sha256:dddddddddddd' },
    };
    const plan = planRotations(
      { domain: d, secret, rotations: [rotation('r1', 0, {}, intent)] },
      { now: at(9), graceMs: 300_000, issue },
    );
    expect(kinds(plan.actions)).toEqual(['writeRotationStatus']);
    expect(plan.actions[0]).toMatchObject({
      status: { ...intent, conditions: [{ type: 'Ready', status: 'True', reason: 'Rotated' }] },
    });
  });

  it.each([
    ['a missing domain, within the grace', undefined, 10, 'DomainNotFound', false],
    ['a missing domain, after the grace', undefined, 400, 'DomainNotFound', true],
    [
      'a suspended domain, within the grace',
      domain({}, { suspend: true }),
      10,
      'ProvisioningNotEnabled',
      false,
    ],
    [
      'a suspended domain, after the grace',
      domain({}, { suspend: true }),
      400,
      'ProvisioningNotEnabled',
      true,
    ],
  ])('waits for %s', (_what, d, nowS, reason, stalled) => {
    const plan = planRotations(
      { ...(d ? { domain: d } : {}), rotations: [rotation('r1', 0)] },
      { now: at(nowS), graceMs: 300_000, issue },
    );
    const status = plan.actions.find((a) => a.kind === 'writeRotationStatus');
    expect(status).toMatchObject({
      status: {
        conditions: expect.arrayContaining([
          expect.objectContaining({ type: 'Ready', status: 'False', reason }),
        ]) as unknown,
      },
    });
    const hasStalled = JSON.stringify(status).includes('"Stalled"');
    expect(hasStalled).toBe(stalled);
    expect(plan.actions.some((a) => a.kind === 'replaceSecret')).toBe(false);
    if (!stalled) expect(plan.requeueAfterMs).toBeGreaterThan(0);
  });

  it('runs a scheduled rotation once for many missed times (one catch-up run)', () => {
    const r = rotation('hourly', 0, { schedule: '@hourly' });
    const plan = planRotations(
      { domain: domain(), secret, rotations: [r] },
      { now: at(5 * 3600 + 60), graceMs: 300_000, issue },
    );
    const commit = plan.actions.find((a) => a.kind === 'writeStatus');
    expect(commit).toMatchObject({
      status: { appliedRotations: [`hourly-uid@${at(5 * 3600).toISOString()}`] },
    });
    const final = plan.actions.filter((a) => a.kind === 'writeRotationStatus').at(-1);
    expect(final).toMatchObject({
      status: {
        lastScheduleTime: at(5 * 3600).toISOString(),
        nextScheduleTime: at(6 * 3600).toISOString(),
        history: [{ result: 'Rotated' }],
      },
    });
  });

  it('skips a due scheduled run when the domain is not Ready and keeps the schedule going', () => {
    const r = rotation('hourly', 0, { schedule: '@hourly' });
    const plan = planRotations(
      { domain: domain({}, { suspend: true }), rotations: [r] },
      { now: at(3600 + 5), graceMs: 300_000, issue },
    );
    expect(plan.actions.some((a) => a.kind === 'replaceSecret')).toBe(false);
    expect(plan.actions.find((a) => a.kind === 'writeRotationStatus')).toMatchObject({
      status: {
        history: [{ result: 'Skipped', reason: 'ProvisioningNotEnabled' }],
        nextScheduleTime: at(7200).toISOString(),
      },
    });
  });

  it('sleeps until the next schedule time when nothing is due', () => {
    const r = rotation('hourly', 0, { schedule: '@hourly' });
    const plan = planRotations(
      { domain: domain(), secret, rotations: [r] },
      { now: at(600), graceMs: 300_000, issue },
    );
    expect(plan.requeueAfterMs).toBe(3000 * 1000);
  });
});
