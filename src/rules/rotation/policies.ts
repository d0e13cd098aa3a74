// What happens to each ScimTokenRotation of a domain in one reconcile (SPEC §1.2, §2.2, §2.6), as an
// ordered chain of named policies in the way of cert-manager's trigger policies: each policy reads the
// same facts about one rotation (gathered once by rotationFacts) and either decides — the rotation's
// next status, its Events, when to come back, or that it is due — or says "not mine" (undefined).
// The first that decides wins. One-shot rotations go through the oneShot* policies, scheduled ones
// through the schedule* policies; the last of each always decides. Applying the rotation that is
// due is planRotations' (plan.ts). Pure: time comes in as an argument.
import {
  ConditionType,
  EventReason,
  RotationReason,
  type RotationHistoryEntry,
  type ScimDomain,
  type ScimTokenRotation,
  type ScimTokenRotationStatus,
  type TokenRef,
} from '../../api/types.js';
import { getCondition, isTrue } from '../conditions.js';
import { dueTime, nextTime, parseSchedule, type ParsedSchedule } from '../schedule.js';
import { withConditions, type Action } from '../scimdomain/plan.js';

export type RotationAction =
  | Action
  | { kind: 'writeRotationStatus'; name: string; resourceVersion: string; status: ScimTokenRotationStatus }
  | {
      kind: 'rotationEvent';
      name: string;
      uid: string;
      type: 'Normal' | 'Warning';
      reason: string;
      message: string;
    }
  | { kind: 'metric'; trigger: 'manual' | 'schedule'; result: 'rotated' | 'skipped' | 'failed' };

/** Why the domain cannot be rotated now (SPEC §2.2). */
export interface Blocked {
  reason: 'DomainNotFound' | 'ProvisioningNotEnabled';
  message: string;
}

/** What every rotation policy reads about one rotation. */
export interface RotationFacts {
  rotation: ScimTokenRotation;
  /** A copy of the rotation's status (policies build on it, never change it). */
  status: ScimTokenRotationStatus;
  generation: number | undefined;
  domain: ScimDomain | undefined;
  /** The domain's status.appliedRotations. */
  applied: ReadonlySet<string>;
  /** Why the domain cannot be rotated now; undefined when it can. */
  blocked: Blocked | undefined;
  now: Date;
  /** How long a one-shot rotation waits for its domain (SPEC §2.2: 5 minutes). */
  graceMs: number;
  /** Scheduled rotations only: the parsed spec.schedule. */
  schedule?: ParsedSchedule;
  /** Scheduled rotations only, unless suspended: the latest schedule time that is due, if any. */
  due?: Date;
}

/** A rotation that is due now; the oldest one is applied, the others wait their turn. */
export interface Candidate {
  rotation: ScimTokenRotation;
  key: string;
  scheduledTime?: Date;
}

/** What a policy decided for one rotation. */
export interface RotationDecision {
  /** The rotation's next status: written after the domain's commit, if it changed. */
  status?: ScimTokenRotationStatus;
  /** Events and metrics, in order. */
  actions?: RotationAction[];
  /** Come back then even without an event. */
  requeueAfterMs?: number;
  /** Due now. */
  candidate?: Candidate;
}

export type RotationPolicy = (f: RotationFacts) => RotationDecision | undefined;

/**
 * While a one-shot rotation waits for its domain, it is retried no sooner than this (a domain that
 * is being created becomes Ready within seconds)…
 */
const GRACE_RETRY_MIN_MS = 1_000;
/** …and no later than this, so that a domain that becomes Ready is rotated within half a minute. */
const GRACE_RETRY_MAX_MS = 30_000;
/** The retry delay grows with the rotation's age: a quarter of it, between the two bounds. */
const GRACE_RETRY_AGE_FRACTION = 4;

export function rotationFacts(
  r: ScimTokenRotation,
  domain: ScimDomain | undefined,
  blocked: Blocked | undefined,
  now: Date,
  graceMs: number,
): RotationFacts {
  const status: ScimTokenRotationStatus = { ...(r.status ?? {}) };
  const f: RotationFacts = {
    rotation: r,
    status,
    generation: r.metadata.generation,
    domain,
    applied: new Set(domain?.status?.appliedRotations ?? []),
    blocked,
    now,
    graceMs,
  };
  if (r.spec.schedule === undefined) return f;
  const schedule = parseSchedule(r.spec.schedule, r.spec.timeZone ?? 'UTC');
  f.schedule = schedule;
  // A suspended schedule has nothing due; its missed times are not even looked at.
  if (schedule.ok && r.spec.suspend !== true) {
    const due = dueTime(schedule, scheduleBase(f), now);
    if (due) f.due = due;
  }
  return f;
}

// ---------------------------------------------------------------------------------------------------
// One-shot rotations (no spec.schedule).

/** A one-shot rotation that has rotated, or has given up (Stalled), is done: nothing more. */
export const oneShotFinished: RotationPolicy = (f) => {
  if (f.schedule) return undefined;
  const done = getCondition(f.status.conditions, ConditionType.Ready)?.reason === RotationReason.Rotated;
  return done || isTrue(f.status.conditions, ConditionType.Stalled) ? {} : undefined;
};

/** A one-shot rotation the domain records as applied, whose own status write did not happen, records it now. */
export const oneShotAppliedUnrecorded: RotationPolicy = (f) => {
  if (f.schedule || !f.applied.has(rotationKey(f.rotation))) return undefined;
  return {
    status: rotatedStatus(
      f.status,
      f.generation,
      f.now.toISOString(),
      f.domain,
      f.rotation.metadata.uid ?? '',
    ),
  };
};

/**
 * A one-shot rotation whose domain cannot be rotated yet waits for it, within the grace period
 * (SPEC §2.2), backing off gently and waking up exactly when the grace ends.
 */
export const oneShotWaitingForDomain: RotationPolicy = (f) => {
  const { blocked } = f;
  if (f.schedule || !blocked) return undefined;
  const age = f.now.getTime() - createdAt(f.rotation).getTime();
  if (age >= f.graceMs) return undefined;
  const until = new Date(createdAt(f.rotation).getTime() + f.graceMs).toISOString();
  return {
    status: withConditions(withoutIntent(f.status), f.generation, f.now.toISOString(), {
      status: 'False',
      ...blocked,
      message: `${blocked.message}; retrying until ${until}`,
    }),
    requeueAfterMs: Math.min(
      f.graceMs - age,
      Math.max(GRACE_RETRY_MIN_MS, Math.min(GRACE_RETRY_MAX_MS, age / GRACE_RETRY_AGE_FRACTION)),
    ),
  };
};

/** A one-shot rotation whose domain could not be rotated for the whole grace period gives up: Stalled. */
export const oneShotGaveUp: RotationPolicy = (f) => {
  const { blocked } = f;
  if (f.schedule || !blocked) return undefined;
  const message = `${blocked.message}; gave up after ${Math.round(f.graceMs / 1000)}s`;
  return {
    status: withConditions(
      withoutIntent(f.status),
      f.generation,
      f.now.toISOString(),
      { status: 'False', reason: blocked.reason, message },
      { reason: blocked.reason, message },
    ),
    actions: [
      rotationEvent(f.rotation, 'Warning', EventReason.RotationFailed, message),
      { kind: 'metric', trigger: 'manual', result: 'failed' },
    ],
  };
};

/** Any other one-shot rotation is due now. */
export const oneShotDue: RotationPolicy = (f) =>
  f.schedule ? undefined : { candidate: { rotation: f.rotation, key: rotationKey(f.rotation) } };

// ---------------------------------------------------------------------------------------------------
// Scheduled rotations (spec.schedule).

/** A schedule that does not parse (or names an unknown time zone) stalls the rotation: InvalidSpec. */
export const scheduleInvalid: RotationPolicy = (f) => {
  if (!f.schedule || f.schedule.ok) return undefined;
  const { message } = f.schedule;
  return {
    status: withConditions(
      { ...f.status, nextScheduleTime: undefined },
      f.generation,
      f.now.toISOString(),
      { status: 'False', reason: RotationReason.InvalidSpec, message },
      { reason: RotationReason.InvalidSpec, message },
    ),
  };
};

/** A suspended schedule runs nothing and shows no next time. */
export const scheduleSuspended: RotationPolicy = (f) => {
  if (!f.schedule?.ok || f.rotation.spec.suspend !== true) return undefined;
  const next = { ...f.status };
  delete next.nextScheduleTime;
  return {
    status: withConditions(next, f.generation, f.now.toISOString(), {
      status: 'True',
      reason: RotationReason.Scheduled,
      message: 'schedule suspended (spec.suspend)',
    }),
  };
};

/** A schedule with nothing due shows its next time and comes back then. */
export const scheduleNotDue: RotationPolicy = (f) => {
  if (!f.schedule?.ok || f.due) return undefined;
  const base = scheduleBase(f);
  const next = nextTime(f.schedule, base.getTime() > f.now.getTime() ? base : f.now);
  return {
    status: withConditions(
      { ...f.status, nextScheduleTime: next.toISOString() },
      f.generation,
      f.now.toISOString(),
      {
        status: 'True',
        reason: RotationReason.Scheduled,
        message: `next rotation at ${next.toISOString()}`,
      },
    ),
    requeueAfterMs: next.getTime() - f.now.getTime(),
  };
};

/**
 * A due run the domain records as applied, whose own status write did not happen, is recorded now;
 * the intent written before the domain commit names the tokens.
 */
export const scheduledRunAppliedUnrecorded: RotationPolicy = (f) => {
  const { schedule, due } = f;
  if (!schedule?.ok || !due || !f.applied.has(rotationKey(f.rotation, due))) return undefined;
  const current = f.domain?.status?.token;
  const issued = f.status.newToken ?? (current ? tokenRef(current) : undefined);
  return {
    status: scheduledRunStatus(
      { ...f, schedule },
      due,
      { result: 'Rotated', ...(issued ? { newToken: issued } : {}) },
      f.status.previousToken,
    ),
  };
};

/** A due run whose domain cannot be rotated now is skipped (not retried) and the schedule goes on. */
export const scheduledRunSkipped: RotationPolicy = (f) => {
  const { schedule, due, blocked } = f;
  if (!schedule?.ok || !due || !blocked) return undefined;
  return {
    status: scheduledRunStatus({ ...f, schedule }, due, {
      result: 'Skipped',
      reason: blocked.reason,
      message: blocked.message,
    }),
    actions: [
      rotationEvent(
        f.rotation,
        'Warning',
        EventReason.RotationSkipped,
        `scheduled run of ${due.toISOString()} skipped: ${blocked.message}`,
      ),
      { kind: 'metric', trigger: 'schedule', result: 'skipped' },
    ],
  };
};

/** Any other due run is due now, keyed by its schedule time. */
export const scheduledRunDue: RotationPolicy = (f) => {
  const { schedule, due } = f;
  if (!schedule?.ok || !due) return undefined;
  return { candidate: { rotation: f.rotation, key: rotationKey(f.rotation, due), scheduledTime: due } };
};

/** The chain, in the order it is evaluated. */
export const rotationPolicies: readonly RotationPolicy[] = [
  oneShotFinished,
  oneShotAppliedUnrecorded,
  oneShotWaitingForDomain,
  oneShotGaveUp,
  oneShotDue,
  scheduleInvalid,
  scheduleSuspended,
  scheduleNotDue,
  scheduledRunAppliedUnrecorded,
  scheduledRunSkipped,
  scheduledRunDue,
];

/** What the chain decides for one rotation: the first policy that decides. */
export function decideRotation(f: RotationFacts): RotationDecision {
  for (const policy of rotationPolicies) {
    const decision = policy(f);
    if (decision) return decision;
  }
  // Unreachable: oneShotDue and scheduledRunDue close their halves of the chain.
  return {};
}

// ---------------------------------------------------------------------------------------------------
// What the policies and the plan share.

/** Why the domain cannot be rotated now, or undefined when it can (SPEC §2.2). */
export function domainNotRotatable(d: ScimDomain | undefined): Blocked | undefined {
  if (!d || d.metadata.deletionTimestamp) {
    return {
      reason: RotationReason.DomainNotFound,
      message: 'the ScimDomain does not exist in this namespace',
    };
  }
  if (d.spec.suspend === true) {
    return {
      reason: RotationReason.ProvisioningNotEnabled,
      message: `ScimDomain ${d.metadata.name} is suspended: provisioning is not enabled`,
    };
  }
  const ready = getCondition(d.status?.conditions, ConditionType.Ready);
  if (!d.status?.token || ready?.status !== 'True' || ready.observedGeneration !== d.metadata.generation) {
    return {
      reason: RotationReason.ProvisioningNotEnabled,
      message: `ScimDomain ${d.metadata.name} is not Ready${ready ? ` (${ready.reason})` : ''}: provisioning is not enabled`,
    };
  }
  return undefined;
}

/** The key that marks a rotation applied in status.appliedRotations: its UID, "<uid>@<time>" for a run. */
export function rotationKey(r: ScimTokenRotation, scheduledTime?: Date): string {
  const uid = r.metadata.uid ?? '';
  return scheduledTime ? `${uid}@${scheduledTime.toISOString()}` : uid;
}

export const tokenRef = (t: { id: string; fingerprint: string }): TokenRef => ({
  id: t.id,
  fingerprint: t.fingerprint,
});

export function createdAt(r: ScimTokenRotation): Date {
  return new Date(r.metadata.creationTimestamp ?? 0);
}

/** Schedule times count from the last run, or from the rotation's creation. */
function scheduleBase(f: RotationFacts): Date {
  return f.status.lastScheduleTime ? new Date(f.status.lastScheduleTime) : createdAt(f.rotation);
}

/** The status without an intent: one left by an attempt that never committed names tokens never swapped. */
function withoutIntent(status: ScimTokenRotationStatus): ScimTokenRotationStatus {
  const next = { ...status };
  delete next.previousToken;
  delete next.newToken;
  return next;
}

export function rotationEvent(
  r: ScimTokenRotation,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
): RotationAction {
  return { kind: 'rotationEvent', name: r.metadata.name, uid: r.metadata.uid ?? '', type, reason, message };
}

function rotatedStatus(
  status: ScimTokenRotationStatus,
  generation: number | undefined,
  now: string,
  d: ScimDomain | undefined,
  uid: string,
): ScimTokenRotationStatus {
  const last = d?.status?.lastRotation;
  const mine = last?.uid === uid;
  const time = mine ? last.time : now;
  // The intent written before the domain commit names both tokens; without it (an older
  // operator), the domain's last rotation can still tell, if it was this one.
  const previous =
    status.previousToken ??
    (mine
      ? d?.status?.revokedTokens?.find((t) => t.reason === 'Rotated' && t.revokedAt === time)
      : undefined);
  const next = status.newToken ?? (mine && d?.status?.token ? d.status.token : undefined);
  return {
    ...withConditions(status, generation, now, {
      status: 'True',
      reason: RotationReason.Rotated,
      message: 'the token was rotated',
    }),
    rotatedAt: time,
    ...(previous ? { previousToken: tokenRef(previous) } : {}),
    ...(next ? { newToken: tokenRef(next) } : {}),
  };
}

/** The status of a scheduled rotation after a run (rotated or skipped): history, times, next run. */
export function scheduledRunStatus(
  of: {
    rotation: ScimTokenRotation;
    status: ScimTokenRotationStatus;
    generation: number | undefined;
    now: Date;
    schedule: { expression: string; timeZone: string };
  },
  scheduledTime: Date,
  run: Omit<RotationHistoryEntry, 'time' | 'scheduledTime'>,
  previous?: TokenRef,
): ScimTokenRotationStatus {
  const { rotation: r, status, generation, now, schedule } = of;
  const nowIso = now.toISOString();
  const entry: RotationHistoryEntry = { scheduledTime: scheduledTime.toISOString(), time: nowIso, ...run };
  const history = [entry, ...(status.history ?? [])].slice(0, r.spec.historyLimit ?? 10);
  const next = nextTime(schedule, now);
  const rotated = run.result === 'Rotated';
  return {
    ...withConditions(status, generation, nowIso, {
      status: 'True',
      reason: RotationReason.Scheduled,
      message: rotated
        ? `rotated at ${nowIso}; next rotation at ${next.toISOString()}`
        : `run of ${scheduledTime.toISOString()} skipped (${run.reason ?? ''}); next rotation at ${next.toISOString()}`,
    }),
    history,
    lastScheduleTime: scheduledTime.toISOString(),
    nextScheduleTime: next.toISOString(),
    ...(rotated ? { lastSuccessfulTime: nowIso, rotatedAt: nowIso } : {}),
    ...(rotated && run.newToken ? { newToken: run.newToken } : {}),
    ...(previous ? { previousToken: previous } : {}),
  };
}
