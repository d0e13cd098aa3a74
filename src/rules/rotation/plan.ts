// The ScimTokenRotation decision (SPEC §1.2, §2.2, §2.6): which rotation of a domain runs now, and
// the bookkeeping of every other one. Pure. It is only asked once the domain itself is steady (its
// own plan wrote nothing), and it applies at most one rotation per reconcile: rotations of one
// domain are serialized under the domain's work-queue key.
//
// A rotation is applied iff its key is not in the domain's status.appliedRotations; the domain
// status write that adds the key is the same write that switches status.token (the instant of
// revocation). One-shot rotations use their UID as key; a scheduled run uses "<uid>@<time>".
import {
  APPLIED_ROTATIONS_LIMIT,
  ConditionType,
  EventReason,
  APPLIED_ROTATIONS_MAX,
  DomainReason,
  REQUESTED_BY_ANNOTATION,
  RotationReason,
  type RotationHistoryEntry,
  type ScimDomain,
  type ScimDomainStatus,
  type ScimTokenRotation,
  type ScimTokenRotationStatus,
  type TokenRef,
} from '../../api/types.js';
import { getCondition, isTrue } from '../conditions.js';
import {
  newTokenAnnotations,
  readyMessage,
  rotateOut,
  secretContent,
  statusUnchanged,
  withConditions,
  writeSecret,
  type Action,
  type NewToken,
  type SecretView,
} from '../scimdomain/plan.js';
import type { TokenSealer } from '../token-seal.js';
import { dueTime, nextTime, parseSchedule } from '../schedule.js';
import { parseDuration } from '../duration.js';
import { describeToken } from '../token.js';

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

/** What the rotation plan reads: one domain, its Secret and the rotations that target it. */
export interface RotationObservation {
  /** The target domain; undefined when it does not exist. */
  domain?: ScimDomain;
  /** The domain's Secret, consistent with its status (the domain plan had nothing to do). */
  secret?: SecretView;
  rotations: ScimTokenRotation[];
}

export interface RotationDeps {
  now: Date;
  /** How long a rotation waits for its domain to exist and be Ready (SPEC §2.2: 5 minutes). */
  graceMs: number;
  issue: () => NewToken;
  sealer: TokenSealer;
}

export interface RotationPlan {
  actions: RotationAction[];
  requeueAfterMs?: number;
}

const ms = (iso: string | Date | undefined) => (iso === undefined ? NaN : new Date(iso).getTime());
const tokenRef = (t: { id: string; fingerprint: string }): TokenRef => ({
  id: t.id,
  fingerprint: t.fingerprint,
});

/** spec.overlap in milliseconds; undefined when absent or not a duration the CRD would admit. */
export function overlapOf(r: ScimTokenRotation): number | undefined {
  if (r.spec.overlap === undefined) return undefined;
  try {
    return parseDuration(r.spec.overlap);
  } catch {
    return undefined;
  }
}

/** Who created the rotation, as admission stamped it (SPEC §1.2); undefined when not stamped. */
export function requesterOf(r: ScimTokenRotation): string | undefined {
  const v = r.metadata.annotations?.[REQUESTED_BY_ANNOTATION];
  return v && v.length <= 512 ? v : undefined;
}

function createdAt(r: ScimTokenRotation): Date {
  return new Date(r.metadata.creationTimestamp ?? 0);
}

/** Why the domain cannot be rotated now, or undefined when it can (SPEC §2.2). */
export function domainNotRotatable(
  d: ScimDomain | undefined,
): { reason: 'DomainNotFound' | 'ProvisioningNotEnabled'; message: string } | undefined {
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

export function rotationKey(r: ScimTokenRotation, scheduledTime?: Date): string {
  const uid = r.metadata.uid ?? '';
  return scheduledTime ? `${uid}@${scheduledTime.toISOString()}` : uid;
}

interface Candidate {
  rotation: ScimTokenRotation;
  key: string;
  scheduledTime?: Date;
}

export function planRotations(state: RotationObservation, deps: RotationDeps): RotationPlan {
  const now = deps.now;
  const nowIso = now.toISOString();
  const actions: RotationAction[] = [];
  let requeueAfterMs: number | undefined;
  const requeue = (after: number) => {
    const v = Math.max(0, Math.ceil(after));
    requeueAfterMs = requeueAfterMs === undefined ? v : Math.min(requeueAfterMs, v);
  };
  const d = state.domain;
  const applied = new Set(d?.status?.appliedRotations ?? []);
  const blocked = domainNotRotatable(d);
  const candidates: Candidate[] = [];
  const pendingStatus = new Map<string, ScimTokenRotationStatus>();

  const rotations = [...state.rotations].sort(
    (a, b) =>
      ms(a.metadata.creationTimestamp) - ms(b.metadata.creationTimestamp) ||
      (a.metadata.name < b.metadata.name ? -1 : 1),
  );

  for (const r of rotations) {
    const status: ScimTokenRotationStatus = { ...(r.status ?? {}) };
    const gen = r.metadata.generation;
    const setStatus = (next: ScimTokenRotationStatus) => pendingStatus.set(r.metadata.name, next);

    if (r.spec.schedule === undefined) {
      // One-shot.
      const done = getCondition(status.conditions, ConditionType.Ready)?.reason === RotationReason.Rotated;
      if (done || isTrue(status.conditions, ConditionType.Stalled)) continue;
      if (applied.has(rotationKey(r))) {
        // Applied, but its own status write did not happen: record it now (crash recovery).
        setStatus(rotatedStatus(status, gen, nowIso, d, r.metadata.uid ?? ''));
        continue;
      }
      if (blocked) {
        // An intent left by an attempt that never committed names tokens that were never swapped.
        delete status.previousToken;
        delete status.newToken;
        const age = now.getTime() - createdAt(r).getTime();
        if (age < deps.graceMs) {
          setStatus(
            withConditions(status, gen, nowIso, {
              status: 'False',
              ...blocked,
              message: `${blocked.message}; retrying until ${new Date(createdAt(r).getTime() + deps.graceMs).toISOString()}`,
            }),
          );
          // Back off gently, and wake up exactly when the grace ends.
          requeue(Math.min(deps.graceMs - age, Math.max(1_000, Math.min(30_000, age / 4))));
        } else {
          const message = `${blocked.message}; gave up after ${Math.round(deps.graceMs / 1000)}s`;
          setStatus(
            withConditions(
              status,
              gen,
              nowIso,
              { status: 'False', reason: blocked.reason, message },
              { reason: blocked.reason, message },
            ),
          );
          actions.push({
            kind: 'rotationEvent',
            name: r.metadata.name,
            uid: r.metadata.uid ?? '',
            type: 'Warning',
            reason: EventReason.RotationFailed,
            message,
          });
          actions.push({ kind: 'metric', trigger: 'manual', result: 'failed' });
        }
        continue;
      }
      candidates.push({ rotation: r, key: rotationKey(r) });
      continue;
    }

    // Scheduled.
    const schedule = parseSchedule(r.spec.schedule, r.spec.timeZone ?? 'UTC');
    if (!schedule.ok) {
      setStatus(
        withConditions(
          { ...status, nextScheduleTime: undefined },
          gen,
          nowIso,
          { status: 'False', reason: RotationReason.InvalidSpec, message: schedule.message },
          { reason: RotationReason.InvalidSpec, message: schedule.message },
        ),
      );
      continue;
    }
    const base = status.lastScheduleTime ? new Date(status.lastScheduleTime) : createdAt(r);
    if (r.spec.suspend === true) {
      const next = { ...status };
      delete next.nextScheduleTime;
      setStatus(
        withConditions(next, gen, nowIso, {
          status: 'True',
          reason: RotationReason.Scheduled,
          message: 'schedule suspended (spec.suspend)',
        }),
      );
      continue;
    }
    const due = dueTime(schedule, base, now);
    if (!due) {
      const next = nextTime(schedule, base.getTime() > now.getTime() ? base : now);
      setStatus(
        withConditions({ ...status, nextScheduleTime: next.toISOString() }, gen, nowIso, {
          status: 'True',
          reason: RotationReason.Scheduled,
          message: `next rotation at ${next.toISOString()}`,
        }),
      );
      requeue(next.getTime() - now.getTime());
      continue;
    }
    const key = rotationKey(r, due);
    if (applied.has(key)) {
      // Applied, but its own status write did not happen: the intent names the tokens.
      const issued = status.newToken ?? (d?.status?.token ? tokenRef(d.status.token) : undefined);
      setStatus(
        scheduledRunStatus(
          status,
          r,
          gen,
          now,
          due,
          { result: 'Rotated', ...(issued ? { newToken: issued } : {}) },
          schedule,
          status.previousToken,
        ),
      );
      continue;
    }
    if (blocked) {
      setStatus(
        scheduledRunStatus(
          status,
          r,
          gen,
          now,
          due,
          { result: 'Skipped', reason: blocked.reason, message: blocked.message },
          schedule,
        ),
      );
      actions.push({
        kind: 'rotationEvent',
        name: r.metadata.name,
        uid: r.metadata.uid ?? '',
        type: 'Warning',
        reason: EventReason.RotationSkipped,
        message: `scheduled run of ${due.toISOString()} skipped: ${blocked.message}`,
      });
      actions.push({ kind: 'metric', trigger: 'schedule', result: 'skipped' });
      continue;
    }
    candidates.push({ rotation: r, key, scheduledTime: due });
  }

  // Apply the first candidate; the others wait for the next reconcile (serialized).
  const first = candidates[0];
  if (first && d && state.secret && d.status?.token) {
    const r = first.rotation;
    const old = d.status.token;
    const fresh = deps.issue();
    const token = describeToken(fresh, nowIso, old.generation + 1);
    // The intent first: which token this rotation replaces and which it issues (ids and
    // fingerprints, never tokens). A crash after the domain write below, before the rotation's own
    // final status, then still knows both.
    actions.push({
      kind: 'writeRotationStatus',
      name: r.metadata.name,
      resourceVersion: r.metadata.resourceVersion ?? '',
      status: { ...(r.status ?? {}), previousToken: tokenRef(old), newToken: tokenRef(token) },
    });
    const overlapMs = overlapOf(r);
    const overlapUntil =
      overlapMs !== undefined ? new Date(now.getTime() + overlapMs).toISOString() : undefined;
    const requestedBy = requesterOf(r);
    const bookkeeping: Partial<ScimDomainStatus> = {
      appliedRotations: recordApplied(d.status.appliedRotations ?? [], first.key, rotations),
      lastRotation: {
        name: r.metadata.name,
        uid: r.metadata.uid ?? '',
        time: nowIso,
        ...(requestedBy ? { requestedBy } : {}),
      },
    };
    const rotated: ScimDomainStatus = { ...rotateOut(d.status, nowIso, overlapUntil), ...bookkeeping };
    // The API server refused the Secret write: the rotation still revokes the old token — overlap
    // or not, nothing replaces it yet — and the domain has no token until a retry delivers one
    // (SPEC §2.3).
    const ifRefused = withConditions(
      { ...rotateOut(d.status, nowIso), ...bookkeeping },
      d.metadata.generation,
      nowIso,
      {
        status: 'False',
        reason: DomainReason.ApiError,
        message: `token ${old.id} (${old.fingerprint}) is revoked by ScimTokenRotation ${r.metadata.name}; its replacement could not be written to Secret ${state.secret.name} and will be retried`,
      },
    );
    delete ifRefused.token;
    actions.push(
      ...writeSecret(
        state.secret,
        state.secret.name,
        secretContent(
          d,
          fresh,
          newTokenAnnotations(deps.sealer, d.metadata.uid ?? '', token, 'Rotated', {
            key: first.key,
            name: r.metadata.name,
            ...(overlapUntil ? { overlapUntil } : {}),
          }),
        ),
        ifRefused,
      ),
    );
    const domainStatus: ScimDomainStatus = withConditions(
      { ...rotated, token },
      d.metadata.generation,
      nowIso,
      { status: 'True', reason: 'TokenIssued', message: readyMessage(token) },
    );
    actions.push({ kind: 'writeStatus', status: domainStatus });
    const what =
      (overlapUntil
        ? `token ${old.id} (${old.fingerprint}) replaced by token ${token.id} (${token.fingerprint}); the old one keeps working until ${overlapUntil}`
        : `token ${old.id} (${old.fingerprint}) revoked and replaced by token ${token.id} (${token.fingerprint})`) +
      (requestedBy ? `, requested by ${requestedBy}` : '');
    actions.push({
      kind: 'event',
      type: 'Normal',
      reason: EventReason.TokenRotated,
      message: `${what} by ScimTokenRotation ${r.metadata.name}`,
    });
    const base = pendingStatus.get(r.metadata.name) ?? { ...(r.status ?? {}) };
    if (first.scheduledTime) {
      const schedule = parseSchedule(r.spec.schedule ?? '', r.spec.timeZone ?? 'UTC');
      if (schedule.ok) {
        pendingStatus.set(
          r.metadata.name,
          scheduledRunStatus(
            base,
            r,
            r.metadata.generation,
            now,
            first.scheduledTime,
            { result: 'Rotated', newToken: tokenRef(token) },
            schedule,
            tokenRef(old),
          ),
        );
      }
    } else {
      pendingStatus.set(r.metadata.name, {
        ...withConditions(base, r.metadata.generation, nowIso, {
          status: 'True',
          reason: RotationReason.Rotated,
          message: what,
        }),
        rotatedAt: nowIso,
        previousToken: tokenRef(old),
        newToken: tokenRef(token),
      });
    }
    actions.push({
      kind: 'rotationEvent',
      name: r.metadata.name,
      uid: r.metadata.uid ?? '',
      type: 'Normal',
      reason: EventReason.TokenRotated,
      message: `${what} for ScimDomain ${d.metadata.name}`,
    });
    actions.push({ kind: 'metric', trigger: first.scheduledTime ? 'schedule' : 'manual', result: 'rotated' });
    if (candidates.length > 1) requeue(0);
  }

  // Rotation status writes come last: the domain status write above is the commit point.
  for (const r of rotations) {
    const pending = pendingStatus.get(r.metadata.name);
    const requestedBy = requesterOf(r);
    const next = pending && requestedBy ? { ...pending, requestedBy } : pending;
    if (next && !statusUnchanged(r.status, next)) {
      actions.push({
        kind: 'writeRotationStatus',
        name: r.metadata.name,
        resourceVersion: r.metadata.resourceVersion ?? '',
        status: next,
      });
    }
  }
  return { actions, ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}) };
}

/**
 * `appliedRotations` with `key` in front, trimmed to APPLIED_ROTATIONS_LIMIT. What makes a one-shot
 * rotation idempotent is its key here or its own status saying it rotated; so the key of a one-shot
 * that is still here and has not recorded that is never trimmed — however many rotations follow it
 * (up to APPLIED_ROTATIONS_MAX, the CRD's bound).
 */
export function recordApplied(
  applied: readonly string[],
  key: string,
  rotations: readonly ScimTokenRotation[],
): string[] {
  const unrecorded = new Set(
    rotations
      .filter(
        (r) =>
          r.spec.schedule === undefined &&
          getCondition(r.status?.conditions, ConditionType.Ready)?.reason !== RotationReason.Rotated,
      )
      .map((r) => r.metadata.uid ?? ''),
  );
  const out = [key, ...applied.filter((k) => k !== key)];
  for (let i = out.length - 1; out.length > APPLIED_ROTATIONS_LIMIT && i > 0; i--) {
    if (!unrecorded.has(out[i]!)) out.splice(i, 1);
  }
  return out.slice(0, APPLIED_ROTATIONS_MAX);
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

function scheduledRunStatus(
  status: ScimTokenRotationStatus,
  r: ScimTokenRotation,
  generation: number | undefined,
  now: Date,
  scheduledTime: Date,
  run: Omit<RotationHistoryEntry, 'time' | 'scheduledTime'>,
  schedule: { expression: string; timeZone: string },
  previous?: TokenRef,
): ScimTokenRotationStatus {
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
