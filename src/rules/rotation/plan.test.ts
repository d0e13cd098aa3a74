import { describe, expect, it } from 'vitest';
import { applyRotation, planRotations, recordApplied } from './plan.js';
import type { RotationAction } from './policies.js';
import { SEAL_ANNOTATION } from '../token-seal.js';
import {
  T0,
  at,
  sha,
  fakeIssue as issue,
  readyDomain as domain,
  rotationSealer as sealer,
  rotationSecret as secret,
  tokenRotation as rotation,
} from '../../../test/support/world.js';
import { tokenSha256 } from '../token.js';

/** What applying a rotation writes, in order: intent, Secret, domain commit, Events, metric. */
const APPLY_ORDER = [
  'writeRotationStatus',
  'replaceSecret',
  'writeStatus',
  'event',
  'rotationEvent',
  'metric',
];
const kinds = (a: RotationAction[]) => a.map((x) => x.kind);

describe('planRotations', () => {
  it('applies a one-shot rotation: intent, Secret, domain commit, event, final status — in that order', () => {
    const plan = planRotations(
      { domain: domain(), secret, rotations: [rotation('r1', 0)] },
      { now: at(1), graceMs: 300_000, issue, sealer },
    );
    expect(kinds(plan.actions)).toEqual([...APPLY_ORDER, 'writeRotationStatus']);
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
      { now: at(3), graceMs: 300_000, issue, sealer },
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
      { now: at(9), graceMs: 300_000, issue, sealer },
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
      { now: at(nowS), graceMs: 300_000, issue, sealer },
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
      { now: at(5 * 3600 + 60), graceMs: 300_000, issue, sealer },
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
      { now: at(3600 + 5), graceMs: 300_000, issue, sealer },
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
      { now: at(600), graceMs: 300_000, issue, sealer },
    );
    expect(plan.requeueAfterMs).toBe(3000 * 1000);
  });

  const oneShot = () =>
    planRotations(
      { domain: domain(), secret, rotations: [rotation('r1', 0)] },
      { now: at(1), graceMs: 300_000, issue, sealer },
    );
  type Of<K extends RotationAction['kind']> = Extract<RotationAction, { kind: K }>;
  const first = <K extends RotationAction['kind']>(a: RotationAction[], kind: K) =>
    a.find((x): x is Of<K> => x.kind === kind)!;

  it('seals the new token with the rotation it belongs to', () => {
    const write = first(oneShot().actions, 'replaceSecret');

    expect(write.content.annotations).toMatchObject({
      'scim.tokens.dev/rotation-uid': 'r1-uid',
      'scim.tokens.dev/rotation-name': 'r1',
      'scim.tokens.dev/token-generation': '4',
    });
    expect(
      sealer.verify(
        {
          domainUid: 'd-uid',
          generation: 4,
          sha256: tokenSha256(write.content.data.token!),
          id: write.content.data['token-id']!,
          cause: 'Rotated',
          rotationKey: 'r1-uid',
          rotationName: 'r1',
        },
        write.content.annotations[SEAL_ANNOTATION],
      ),
    ).toBe(true);
  });

  // SPEC §2.3: revocation never waits for a Secret write.
  it('carries, with the Secret write, the status that revokes the old token if the write is refused', () => {
    const write = first(oneShot().actions, 'replaceSecret');
    const fallback = write.ifRefused!;

    expect(fallback.token).toBeUndefined();
    expect(fallback.revokedTokens?.[0]).toMatchObject({ id: 'tok-old', reason: 'Rotated' });
    expect(fallback.appliedRotations?.[0]).toBe('r1-uid');
    expect(fallback.lastRotation).toMatchObject({ name: 'r1', uid: 'r1-uid' });
    expect(fallback.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ApiError',
    });
  });

  it('replaces an immutable Secret by deleting it (UID precondition) and creating it again', () => {
    const plan = planRotations(
      { domain: domain(), secret: { ...secret, immutable: true }, rotations: [rotation('r1', 0)] },
      { now: at(1), graceMs: 300_000, issue, sealer },
    );

    expect(kinds(plan.actions).slice(0, 4)).toEqual([
      'writeRotationStatus',
      'deleteSecret',
      'createSecret',
      'writeStatus',
    ]);
    expect(first(plan.actions, 'deleteSecret')).toMatchObject({ uid: 's', resourceVersion: '7' });
    expect(first(plan.actions, 'deleteSecret').ifRefused?.token).toBeUndefined();
  });
});

describe('recordApplied', () => {
  const keys = (n: number, prefix = 'k') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  const done = (name: string) =>
    rotation(
      name,
      0,
      {},
      {
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'Rotated',
            message: '',
            lastTransitionTime: T0.toISOString(),
          },
        ],
      },
    );

  it.each([
    { case: 'a short list grows by one', before: keys(3), rotations: [], want: ['new', ...keys(3)] },
    { case: 'a full list drops its oldest key', before: keys(50), rotations: [], want: ['new', ...keys(49)] },
    {
      case: 'the key of a one-shot that has not recorded its rotation stays, however old',
      before: [...keys(49), 'old-uid'],
      rotations: [rotation('old', 0)],
      want: ['new', ...keys(48), 'old-uid'],
    },
    {
      case: 'the key of a one-shot that recorded its rotation may go',
      before: [...keys(49), 'old-uid'],
      rotations: [done('old')],
      want: ['new', ...keys(49)],
    },
    {
      case: 'scheduled runs go oldest first',
      before: [...keys(49), 'sched-uid@2026-01-01T00:00:00.000Z'],
      rotations: [rotation('sched', 0, { schedule: '@daily' })],
      want: ['new', ...keys(49)],
    },
  ])('$case', ({ before, rotations, want }) => {
    expect(recordApplied(before, 'new', rotations)).toEqual(want);
  });

  it('never grows past the CRD bound of 100, even with 100 unrecorded one-shots', () => {
    const rotations = keys(120, 'r').map((name) => rotation(name, 0));
    const before = rotations.map((r) => r.metadata.uid!);

    expect(recordApplied(before, 'new', rotations)).toHaveLength(100);
  });
});

describe('planRotations with an overlap (SPEC §2.2)', () => {
  const withOverlap = (overlap: string, annotations: Record<string, string> = {}) => {
    const r = rotation('r1', 0, { overlap });
    r.metadata.annotations = annotations;
    return r;
  };
  const domainWrite = (actions: RotationAction[]) =>
    actions.find((a): a is Extract<RotationAction, { kind: 'writeStatus' }> => a.kind === 'writeStatus')!
      .status;

  it('keeps the replaced token as previousToken until now + overlap instead of revoking it', () => {
    const plan = planRotations(
      { domain: domain(), secret, rotations: [withOverlap('1h')] },
      { now: at(1), graceMs: 300_000, issue, sealer },
    );

    const status = domainWrite(plan.actions);
    expect(status.previousToken).toEqual({
      id: 'tok-old',
      fingerprint: `sha256:${'a'.repeat(12)}`,
      sha256: sha('a'),
      expiresAt: new Date(at(1).getTime() + 3_600_000).toISOString(),
    });
    expect(status.revokedTokens ?? []).toEqual([]);
    const write = plan.actions.find((a) => a.kind === 'replaceSecret')!;
    expect(write.kind === 'replaceSecret' && write.content.annotations['scim.tokens.dev/overlap-until']).toBe(
      status.previousToken?.expiresAt,
    );
  });

  it('ends an overlap in progress at once when another rotation applies', () => {
    const d = domain({
      previousToken: {
        id: 'tok-prev',
        fingerprint: `sha256:${'c'.repeat(12)}`,
        sha256: sha('c'),
        expiresAt: at(600).toISOString(),
      },
    });
    const plan = planRotations(
      { domain: d, secret, rotations: [rotation('r2', 0)] },
      { now: at(1), graceMs: 300_000, issue, sealer },
    );

    const status = domainWrite(plan.actions);
    expect(status.previousToken).toBeUndefined();
    expect(status.revokedTokens?.map((t) => t.id)).toEqual(['tok-old', 'tok-prev']);
  });

  it('revokes at once, overlap or not, when the Secret write is refused', () => {
    const plan = planRotations(
      { domain: domain(), secret, rotations: [withOverlap('1h')] },
      { now: at(1), graceMs: 300_000, issue, sealer },
    );
    const write = plan.actions.find((a) => a.kind === 'replaceSecret')!;

    expect(write.kind === 'replaceSecret' && write.ifRefused?.previousToken).toBeUndefined();
    expect(write.kind === 'replaceSecret' && write.ifRefused?.revokedTokens?.[0]?.id).toBe('tok-old');
  });

  it('records who asked in the domain, the rotation and the events', () => {
    const plan = planRotations(
      {
        domain: domain(),
        secret,
        rotations: [withOverlap('30m', { 'scim.tokens.dev/requested-by': 'alice@example.com' })],
      },
      { now: at(1), graceMs: 300_000, issue, sealer },
    );

    expect(domainWrite(plan.actions).lastRotation).toMatchObject({
      name: 'r1',
      requestedBy: 'alice@example.com',
    });
    const final = plan.actions.filter((a) => a.kind === 'writeRotationStatus').at(-1);
    expect(final?.kind === 'writeRotationStatus' && final.status.requestedBy).toBe('alice@example.com');
    for (const e of plan.actions.filter((a) => a.kind === 'event' || a.kind === 'rotationEvent'))
      expect('message' in e && e.message).toContain('requested by alice@example.com');
  });
});

describe('applyRotation', () => {
  const old = domain().status!.token!;
  const apply = (r: ReturnType<typeof rotation>, key: string, scheduledTime?: Date) =>
    applyRotation(
      { rotation: r, key, ...(scheduledTime ? { scheduledTime } : {}) },
      domain(),
      old,
      secret,
      [r],
      {
        base: { ...(r.status ?? {}) },
        now: at(3605),
        issue,
        sealer,
      },
    );

  it.each([
    {
      case: 'a one-shot',
      r: () => rotation('r1', 0),
      key: 'r1-uid',
      scheduledTime: undefined,
      metric: 'manual',
      final: {
        conditions: [expect.objectContaining({ type: 'Ready', reason: 'Rotated' })],
        rotatedAt: at(3605).toISOString(),
      },
    },
    {
      case: 'a scheduled run',
      r: () => rotation('hourly', 0, { schedule: '@hourly' }),
      key: `hourly-uid@${at(3600).toISOString()}`,
      scheduledTime: at(3600),
      metric: 'schedule',
      final: {
        lastScheduleTime: at(3600).toISOString(),
        history: [expect.objectContaining({ result: 'Rotated' })],
      },
    },
    {
      case: 'a one-shot with an overlap',
      r: () => rotation('r1', 0, { overlap: '10m' }),
      key: 'r1-uid',
      scheduledTime: undefined,
      metric: 'manual',
      final: {
        conditions: [
          expect.objectContaining({
            message: expect.stringContaining(`keeps working until ${at(4205).toISOString()}`) as string,
          }),
        ],
      },
    },
  ])(
    '$case: intent, Secret, commit, Events, metric — and the final status',
    ({ r, key, scheduledTime, metric, final }) => {
      const applied = apply(r(), key, scheduledTime);

      expect(kinds(applied.actions)).toEqual(APPLY_ORDER);
      expect(applied.actions.find((a) => a.kind === 'writeStatus')).toMatchObject({
        status: { appliedRotations: [key], token: { generation: old.generation + 1 } },
      });
      expect(applied.actions.at(-1)).toEqual({ kind: 'metric', trigger: metric, result: 'rotated' });
      expect(applied.status).toMatchObject({ ...final, previousToken: { id: 'tok-old' } });
    },
  );
});
