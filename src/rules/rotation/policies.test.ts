// Each policy of the rotation chain on its own: the rotations it decides for (and what it decides),
// and those it leaves to the next policy ("not mine"). planRotations' end-to-end behaviour, applying
// the rotation that is due, is in plan.test.ts.
import { describe, expect, it } from 'vitest';
import type { ScimDomain, ScimTokenRotation, ScimTokenRotationStatus } from '../../api/types.js';
import { getCondition, type Condition } from '../conditions.js';
import {
  decideRotation,
  domainNotRotatable,
  oneShotAppliedUnrecorded,
  oneShotDue,
  oneShotFinished,
  oneShotGaveUp,
  oneShotWaitingForDomain,
  rotationFacts,
  rotationKey,
  rotationPolicies,
  scheduledRunAppliedUnrecorded,
  scheduledRunDue,
  scheduledRunSkipped,
  scheduleInvalid,
  scheduleNotDue,
  scheduleSuspended,
  type RotationDecision,
  type RotationPolicy,
} from './policies.js';
import { at, readyDomain, tokenRotation } from '../../../test/support/world.js';

const GRACE_MS = 300_000;
const cond = (reason: string, type = 'Ready', status: 'True' | 'False' = 'True'): Condition => ({
  type,
  status,
  reason,
  message: '',
  lastTransitionTime: at(0).toISOString(),
});
const HOURLY = { schedule: '@hourly' };
const INTENT = {
  previousToken: { id: 'tok-prev', fingerprint: 'sha256:cccccccccccc' },
  newToken: { id: 'tok-mid', fingerprint: 'sha256:dddddddddddd' },
};

/** The rotations' domain does not exist. */
const NO_DOMAIN = null;

/** The facts about rotation `r` of domain `d` (default: a Ready one) at `nowS` seconds after T0. */
const factsOf = (r: ScimTokenRotation, nowS: number, d: ScimDomain | null = readyDomain()) =>
  rotationFacts(r, d ?? undefined, domainNotRotatable(d ?? undefined), at(nowS), GRACE_MS);

/** What `policy` decides for rotation `r` of domain `d` (default: a Ready one) at `nowS` seconds after T0. */
function decide(
  policy: RotationPolicy,
  r: ScimTokenRotation,
  nowS: number,
  d?: ScimDomain | null,
): RotationDecision | undefined {
  return policy(factsOf(r, nowS, d));
}
const readyOf = (s: ScimTokenRotationStatus | undefined) => getCondition(s?.conditions, 'Ready');
const stalledOf = (s: ScimTokenRotationStatus | undefined) => getCondition(s?.conditions, 'Stalled');
const suspendedDomain = () => readyDomain({}, { suspend: true });

describe('the rotation chain', () => {
  it('evaluates its policies in this order', () => {
    expect(rotationPolicies.map((p) => p.name)).toEqual([
      'oneShotFinished',
      'oneShotAppliedUnrecorded',
      'oneShotWaitingForDomain',
      'oneShotGaveUp',
      'oneShotDue',
      'scheduleInvalid',
      'scheduleSuspended',
      'scheduleNotDue',
      'scheduledRunAppliedUnrecorded',
      'scheduledRunSkipped',
      'scheduledRunDue',
    ]);
  });

  it.each([
    {
      case: 'a rotated one-shot of a domain that has gone',
      r: () => tokenRotation('r', 0, {}, { conditions: [cond('Rotated')] }),
      d: NO_DOMAIN,
      nowS: 10,
      by: 'oneShotFinished',
    },
    {
      case: 'an applied one-shot of a domain suspended since',
      r: () => tokenRotation('r', 0),
      d: readyDomain({ appliedRotations: ['r-uid'] }, { suspend: true }),
      nowS: 10,
      by: 'oneShotAppliedUnrecorded',
    },
    {
      case: 'a one-shot of a missing domain, within the grace',
      r: () => tokenRotation('r', 0),
      d: NO_DOMAIN,
      nowS: 10,
      by: 'oneShotWaitingForDomain',
    },
    {
      case: 'a one-shot of a missing domain, after the grace',
      r: () => tokenRotation('r', 0),
      d: NO_DOMAIN,
      nowS: 400,
      by: 'oneShotGaveUp',
    },
    {
      case: 'a one-shot of a Ready domain',
      r: () => tokenRotation('r', 0),
      d: readyDomain(),
      nowS: 10,
      by: 'oneShotDue',
    },
    {
      case: 'a suspended schedule that does not parse',
      r: () => tokenRotation('s', 0, { schedule: 'nope', suspend: true }),
      d: readyDomain(),
      nowS: 10,
      by: 'scheduleInvalid',
    },
    {
      case: 'a suspended schedule of a missing domain',
      r: () => tokenRotation('s', 0, { ...HOURLY, suspend: true }),
      d: NO_DOMAIN,
      nowS: 7200,
      by: 'scheduleSuspended',
    },
    {
      case: 'a schedule with nothing due, of a missing domain',
      r: () => tokenRotation('s', 0, HOURLY),
      d: NO_DOMAIN,
      nowS: 60,
      by: 'scheduleNotDue',
    },
    {
      case: 'an applied run of a suspended domain',
      r: () => tokenRotation('s', 0, HOURLY),
      d: readyDomain({ appliedRotations: [`s-uid@${at(3600).toISOString()}`] }, { suspend: true }),
      nowS: 3605,
      by: 'scheduledRunAppliedUnrecorded',
    },
    {
      case: 'a due run of a suspended domain',
      r: () => tokenRotation('s', 0, HOURLY),
      d: suspendedDomain(),
      nowS: 3605,
      by: 'scheduledRunSkipped',
    },
    {
      case: 'a due run of a Ready domain',
      r: () => tokenRotation('s', 0, HOURLY),
      d: readyDomain(),
      nowS: 3605,
      by: 'scheduledRunDue',
    },
  ])('lets the first policy that applies decide: $case → $by', ({ r, d, nowS, by }) => {
    const facts = factsOf(r(), nowS, d);
    const decider = rotationPolicies.find((p) => p(facts) !== undefined);

    expect(decider?.name).toBe(by);
    expect(decideRotation(facts)).toEqual(decider?.(facts));
  });
});

describe('domainNotRotatable', () => {
  it.each([
    { case: 'a Ready domain', d: () => readyDomain(), want: undefined },
    { case: 'no domain', d: () => undefined, want: 'DomainNotFound' },
    {
      case: 'a domain being deleted',
      d: () => ({ ...readyDomain(), metadata: { ...readyDomain().metadata, deletionTimestamp: at(0) } }),
      want: 'DomainNotFound',
    },
    { case: 'a suspended domain', d: suspendedDomain, want: 'ProvisioningNotEnabled' },
    {
      case: 'a domain without a token',
      d: () => readyDomain({ token: undefined }),
      want: 'ProvisioningNotEnabled',
    },
    {
      case: 'a domain not Ready',
      d: () => readyDomain({ conditions: [cond('SecretConflict', 'Ready', 'False')] }),
      want: 'ProvisioningNotEnabled',
    },
    {
      case: 'a domain whose Ready is of an older generation',
      d: () => ({ ...readyDomain(), metadata: { ...readyDomain().metadata, generation: 2 } }),
      want: 'ProvisioningNotEnabled',
    },
  ])('$case → $want', ({ d, want }) => {
    expect(domainNotRotatable(d())?.reason).toBe(want);
  });
});

describe('oneShotFinished', () => {
  it.each([
    { case: 'a rotation that rotated', status: { conditions: [cond('Rotated')] }, want: {} },
    {
      case: 'a rotation that gave up (Stalled)',
      status: { conditions: [cond('DomainNotFound', 'Stalled')] },
      want: {},
    },
    {
      case: 'a rotation waiting for its domain',
      status: { conditions: [cond('DomainNotFound', 'Ready', 'False')] },
      want: undefined,
    },
    { case: 'a new rotation', status: undefined, want: undefined },
  ])('$case → $want', ({ status, want }) => {
    expect(decide(oneShotFinished, tokenRotation('r', 0, {}, status), 10)).toEqual(want);
  });

  it('leaves scheduled rotations alone', () => {
    expect(
      decide(oneShotFinished, tokenRotation('s', 0, HOURLY, { conditions: [cond('Rotated')] }), 10),
    ).toBeUndefined();
  });
});

describe('oneShotAppliedUnrecorded', () => {
  const applied = (over: Partial<NonNullable<ScimDomain['status']>> = {}) =>
    readyDomain({ appliedRotations: ['r-uid'], ...over });
  it.each([
    {
      case: 'its intent names both tokens',
      status: INTENT,
      d: () => applied({ lastRotation: { name: 'other', uid: 'other-uid', time: at(5).toISOString() } }),
      want: {
        rotatedAt: at(10).toISOString(),
        previousToken: INTENT.previousToken,
        newToken: INTENT.newToken,
      },
    },
    {
      case: 'no intent, and the domain last rotated by it',
      status: undefined,
      d: () =>
        applied({
          lastRotation: { name: 'r', uid: 'r-uid', time: at(5).toISOString() },
          revokedTokens: [
            {
              id: 'tok-older',
              fingerprint: 'sha256:eeeeeeeeeeee',
              revokedAt: at(5).toISOString(),
              reason: 'Rotated',
            },
          ],
        }),
      want: {
        rotatedAt: at(5).toISOString(),
        previousToken: { id: 'tok-older', fingerprint: 'sha256:eeeeeeeeeeee' },
        newToken: { id: 'tok-old', fingerprint: `sha256:${'a'.repeat(12)}` },
      },
    },
    {
      case: 'no intent, and the domain last rotated by another',
      status: undefined,
      d: () => applied({ lastRotation: { name: 'other', uid: 'other-uid', time: at(5).toISOString() } }),
      want: { rotatedAt: at(10).toISOString() },
    },
  ])('records Rotated when $case', ({ status, d, want }) => {
    const decision = decide(oneShotAppliedUnrecorded, tokenRotation('r', 0, {}, status), 10, d());

    expect(readyOf(decision?.status)).toMatchObject({ status: 'True', reason: 'Rotated' });
    expect(decision?.status).toMatchObject(want);
    if (!('previousToken' in want)) expect(decision?.status?.previousToken).toBeUndefined();
  });

  it.each([
    { case: 'a rotation the domain has not applied', r: () => tokenRotation('r', 0), d: readyDomain() },
    {
      case: 'a scheduled rotation whose uid is listed',
      r: () => tokenRotation('r', 0, HOURLY),
      d: applied(),
    },
  ])('not mine: $case', ({ r, d }) => {
    expect(decide(oneShotAppliedUnrecorded, r(), 10, d)).toBeUndefined();
  });
});

describe('oneShotWaitingForDomain', () => {
  it.each([
    { case: 'just created', nowS: 0, requeueMs: 1_000 },
    { case: '8s old: a quarter of its age', nowS: 8, requeueMs: 2_000 },
    { case: '200s old: at most 30s', nowS: 200, requeueMs: 30_000 },
    { case: '290s old: exactly when the grace ends', nowS: 290, requeueMs: 10_000 },
  ])('backs off gently for a missing domain, $case', ({ nowS, requeueMs }) => {
    const decision = decide(oneShotWaitingForDomain, tokenRotation('r', 0, {}, INTENT), nowS, NO_DOMAIN);

    expect(decision?.requeueAfterMs).toBe(requeueMs);
    expect(readyOf(decision?.status)).toMatchObject({
      status: 'False',
      reason: 'DomainNotFound',
      message: `the ScimDomain does not exist in this namespace; retrying until ${at(300).toISOString()}`,
    });
    // An intent of an attempt that never committed names tokens that were never swapped.
    expect(decision?.status?.previousToken).toBeUndefined();
    expect(decision?.status?.newToken).toBeUndefined();
  });

  it.each([
    { case: 'a Ready domain', nowS: 10, d: readyDomain() },
    { case: 'a missing domain after the grace', nowS: 300, d: NO_DOMAIN },
    { case: 'a suspended domain after the grace', nowS: 301, d: suspendedDomain() },
  ])('not mine: $case', ({ nowS, d }) => {
    expect(decide(oneShotWaitingForDomain, tokenRotation('r', 0), nowS, d)).toBeUndefined();
  });

  it('leaves scheduled rotations alone', () => {
    expect(decide(oneShotWaitingForDomain, tokenRotation('s', 0, HOURLY), 10, NO_DOMAIN)).toBeUndefined();
  });
});

describe('oneShotGaveUp', () => {
  it.each([
    { case: 'a missing domain', d: NO_DOMAIN, reason: 'DomainNotFound' },
    { case: 'a suspended domain', d: suspendedDomain(), reason: 'ProvisioningNotEnabled' },
  ])('stalls, warns and counts a failure for $case', ({ d, reason }) => {
    const decision = decide(oneShotGaveUp, tokenRotation('r', 0, {}, INTENT), 400, d);

    expect(readyOf(decision?.status)).toMatchObject({
      status: 'False',
      reason,
      message: expect.stringMatching(/gave up after 300s$/) as string,
    });
    expect(stalledOf(decision?.status)).toMatchObject({ status: 'True', reason });
    expect(decision?.status?.newToken).toBeUndefined();
    expect(decision?.actions).toEqual([
      expect.objectContaining({
        kind: 'rotationEvent',
        name: 'r',
        type: 'Warning',
        reason: 'RotationFailed',
      }),
      { kind: 'metric', trigger: 'manual', result: 'failed' },
    ]);
    expect(decision?.requeueAfterMs).toBeUndefined();
  });

  it.each([
    { case: 'a one-shot of a Ready domain', r: () => tokenRotation('r', 0), d: readyDomain() },
    {
      case: 'a scheduled rotation of a missing domain',
      r: () => tokenRotation('s', 0, HOURLY),
      d: NO_DOMAIN,
    },
  ])('not mine: $case', ({ r, d }) => {
    expect(decide(oneShotGaveUp, r(), 400, d)).toBeUndefined();
  });
});

describe('oneShotDue', () => {
  it.each([
    { case: 'a one-shot', r: () => tokenRotation('r', 0), want: { key: 'r-uid', scheduledTime: undefined } },
    { case: 'a scheduled rotation', r: () => tokenRotation('s', 0, HOURLY), want: undefined },
  ])('$case', ({ r, want }) => {
    const decision = decide(oneShotDue, r(), 10);

    expect(
      decision?.candidate && { key: decision.candidate.key, scheduledTime: decision.candidate.scheduledTime },
    ).toEqual(want);
  });
});

describe('scheduleInvalid', () => {
  it.each([
    { case: 'an expression that does not parse', spec: { schedule: 'every day' }, invalid: true },
    { case: 'an unknown time zone', spec: { ...HOURLY, timeZone: 'Mars/Olympus' }, invalid: true },
    { case: 'a valid schedule', spec: HOURLY, invalid: false },
    {
      case: 'a valid schedule in a time zone',
      spec: { schedule: '0 3 * * *', timeZone: 'Europe/Paris' },
      invalid: false,
    },
    { case: 'a one-shot', spec: {}, invalid: false },
  ])('$case → invalid: $invalid', ({ spec, invalid }) => {
    const decision = decide(
      scheduleInvalid,
      tokenRotation('s', 0, spec, { nextScheduleTime: at(60).toISOString() }),
      10,
    );

    expect(decision !== undefined).toBe(invalid);
    if (invalid) {
      expect(stalledOf(decision?.status)).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
      expect(decision?.status?.nextScheduleTime).toBeUndefined();
    }
  });
});

describe('scheduleSuspended', () => {
  it.each([
    { case: 'a suspended schedule', spec: { ...HOURLY, suspend: true }, suspended: true },
    {
      case: 'a suspended schedule with runs missed',
      spec: { ...HOURLY, suspend: true },
      suspended: true,
      nowS: 10 * 3600,
    },
    { case: 'a running schedule', spec: HOURLY, suspended: false },
    {
      case: 'a suspended schedule that does not parse',
      spec: { schedule: 'x', suspend: true },
      suspended: false,
    },
  ])('$case → $suspended', ({ spec, suspended, nowS }) => {
    const decision = decide(
      scheduleSuspended,
      tokenRotation('s', 0, spec, { nextScheduleTime: at(3600).toISOString() }),
      nowS ?? 10,
    );

    expect(decision !== undefined).toBe(suspended);
    if (suspended) {
      expect(readyOf(decision?.status)).toMatchObject({
        status: 'True',
        reason: 'Scheduled',
        message: 'schedule suspended (spec.suspend)',
      });
      expect(decision?.status?.nextScheduleTime).toBeUndefined();
      expect(decision?.requeueAfterMs).toBeUndefined();
    }
  });
});

describe('scheduleNotDue', () => {
  it.each([
    { case: 'ten minutes after creation', status: undefined, nowS: 600, next: 3600 },
    {
      case: 'ten minutes after the last run',
      status: { lastScheduleTime: at(3600).toISOString() },
      nowS: 4200,
      next: 7200,
    },
    {
      case: 'a last run recorded ahead of the clock',
      status: { lastScheduleTime: at(7200).toISOString() },
      nowS: 4200,
      next: 10800,
    },
  ])('shows the next time and comes back then: $case', ({ status, nowS, next }) => {
    const decision = decide(scheduleNotDue, tokenRotation('s', 0, HOURLY, status), nowS, NO_DOMAIN);

    expect(decision?.status?.nextScheduleTime).toBe(at(next).toISOString());
    expect(readyOf(decision?.status)).toMatchObject({
      status: 'True',
      reason: 'Scheduled',
      message: `next rotation at ${at(next).toISOString()}`,
    });
    expect(decision?.requeueAfterMs).toBe((next - nowS) * 1000);
  });

  it.each([
    { case: 'a run due', r: () => tokenRotation('s', 0, HOURLY), nowS: 3600 },
    { case: 'many runs missed', r: () => tokenRotation('s', 0, HOURLY), nowS: 5 * 3600 + 1 },
    { case: 'a one-shot', r: () => tokenRotation('r', 0), nowS: 10 },
  ])('not mine: $case', ({ r, nowS }) => {
    expect(decide(scheduleNotDue, r(), nowS)).toBeUndefined();
  });
});

describe('scheduledRunAppliedUnrecorded', () => {
  const run = at(3600).toISOString();
  it.each([
    {
      case: 'its intent names the new token',
      status: INTENT,
      newToken: INTENT.newToken,
      previousToken: INTENT.previousToken,
    },
    {
      case: 'no intent: the domain’s current token',
      status: undefined,
      newToken: { id: 'tok-old', fingerprint: `sha256:${'a'.repeat(12)}` },
      previousToken: undefined,
    },
  ])('records the run as Rotated when $case', ({ status, newToken, previousToken }) => {
    const d = readyDomain({ appliedRotations: [`s-uid@${run}`] });
    const decision = decide(scheduledRunAppliedUnrecorded, tokenRotation('s', 0, HOURLY, status), 3605, d);

    expect(decision?.status).toMatchObject({
      lastScheduleTime: run,
      nextScheduleTime: at(7200).toISOString(),
      lastSuccessfulTime: at(3605).toISOString(),
      history: [{ scheduledTime: run, result: 'Rotated', newToken }],
    });
    expect(decision?.status?.previousToken).toEqual(previousToken);
    expect(decision?.actions).toBeUndefined();
  });

  it.each([
    { case: 'another run applied', applied: [`s-uid@${at(0).toISOString()}`] },
    { case: 'the one-shot key of the same rotation', applied: ['s-uid'] },
    { case: 'nothing applied', applied: [] },
  ])('not mine: $case', ({ applied }) => {
    const d = readyDomain({ appliedRotations: applied });
    expect(decide(scheduledRunAppliedUnrecorded, tokenRotation('s', 0, HOURLY), 3605, d)).toBeUndefined();
  });
});

describe('scheduledRunSkipped', () => {
  it.each([
    { case: 'a suspended domain', d: suspendedDomain(), reason: 'ProvisioningNotEnabled' },
    { case: 'a missing domain', d: NO_DOMAIN, reason: 'DomainNotFound' },
  ])('skips the due run of $case, warns, counts it and keeps the schedule', ({ d, reason }) => {
    const decision = decide(scheduledRunSkipped, tokenRotation('s', 0, HOURLY), 3605, d);

    expect(decision?.status).toMatchObject({
      history: [{ scheduledTime: at(3600).toISOString(), result: 'Skipped', reason }],
      lastScheduleTime: at(3600).toISOString(),
      nextScheduleTime: at(7200).toISOString(),
    });
    expect(decision?.status?.lastSuccessfulTime).toBeUndefined();
    expect(decision?.actions).toEqual([
      expect.objectContaining({
        kind: 'rotationEvent',
        type: 'Warning',
        reason: 'RotationSkipped',
        message: expect.stringContaining(`scheduled run of ${at(3600).toISOString()} skipped`) as string,
      }),
      { kind: 'metric', trigger: 'schedule', result: 'skipped' },
    ]);
  });

  it.each([
    { case: 'a Ready domain', d: readyDomain(), nowS: 3605 },
    { case: 'nothing due', d: suspendedDomain(), nowS: 600 },
  ])('not mine: $case', ({ d, nowS }) => {
    expect(decide(scheduledRunSkipped, tokenRotation('s', 0, HOURLY), nowS, d)).toBeUndefined();
  });

  it('keeps no more history than spec.historyLimit', () => {
    const history = Array.from({ length: 3 }, (_, i) => ({
      scheduledTime: at(i).toISOString(),
      time: at(i).toISOString(),
      result: 'Rotated' as const,
    }));
    const decision = decide(
      scheduledRunSkipped,
      tokenRotation('s', 0, { ...HOURLY, historyLimit: 2 }, { history }),
      3605,
      NO_DOMAIN,
    );

    expect(decision?.status?.history?.map((h) => h.result)).toEqual(['Skipped', 'Rotated']);
  });
});

describe('scheduledRunDue', () => {
  it.each([
    { case: 'the first run', status: undefined, nowS: 3600, time: 3600 },
    {
      case: 'five missed runs: one catch-up run, the latest',
      status: undefined,
      nowS: 5 * 3600 + 60,
      time: 5 * 3600,
    },
    {
      case: 'the run after the last one',
      status: { lastScheduleTime: at(3600).toISOString() },
      nowS: 7201,
      time: 7200,
    },
  ])('$case', ({ status, nowS, time }) => {
    const r = tokenRotation('s', 0, HOURLY, status);
    const decision = decide(scheduledRunDue, r, nowS);

    expect(decision?.candidate?.scheduledTime).toEqual(at(time));
    expect(decision?.candidate?.key).toBe(rotationKey(r, at(time)));
    expect(decision?.candidate?.key).toBe(`s-uid@${at(time).toISOString()}`);
  });

  it.each([
    { case: 'nothing due', r: () => tokenRotation('s', 0, HOURLY), nowS: 600 },
    {
      case: 'a suspended schedule with runs missed',
      r: () => tokenRotation('s', 0, { ...HOURLY, suspend: true }),
      nowS: 7200,
    },
    { case: 'a one-shot', r: () => tokenRotation('r', 0), nowS: 10 },
  ])('not mine: $case', ({ r, nowS }) => {
    expect(decide(scheduledRunDue, r(), nowS)).toBeUndefined();
  });
});
