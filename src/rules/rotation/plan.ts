// The ScimTokenRotation decision (SPEC §1.2, §2.2, §2.6): which rotation of a domain runs now, and
// the bookkeeping of every other one. What happens to each rotation is the chain of named policies
// in policies.ts; this module applies the one that is due and orders the writes. Pure. It is only asked once the domain itself is steady (its
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
  type ScimDomain,
  type ScimDomainStatus,
  type ScimTokenRotation,
  type ScimTokenRotationStatus,
  type TokenStatus,
} from '../../api/types.js';
import { getCondition } from '../conditions.js';
import {
  newTokenAnnotations,
  readyMessage,
  rotateOut,
  secretContent,
  statusUnchanged,
  withConditions,
  writeSecret,
  type NewToken,
  type SecretView,
} from '../scimdomain/plan.js';
import type { TokenSealer } from '../token-seal.js';
import { parseSchedule } from '../schedule.js';
import { parseDuration } from '../duration.js';
import { describeToken } from '../token.js';
import {
  decideRotation,
  domainNotRotatable,
  rotationEvent,
  rotationFacts,
  scheduledRunStatus,
  tokenRef,
  type Candidate,
  type RotationAction,
} from './policies.js';

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

export function planRotations(state: RotationObservation, deps: RotationDeps): RotationPlan {
  const now = deps.now;
  const actions: RotationAction[] = [];
  let requeueAfterMs: number | undefined;
  const requeue = (after: number) => {
    const v = Math.max(0, Math.ceil(after));
    requeueAfterMs = requeueAfterMs === undefined ? v : Math.min(requeueAfterMs, v);
  };
  const d = state.domain;
  const blocked = domainNotRotatable(d);
  const candidates: Candidate[] = [];
  const pendingStatus = new Map<string, ScimTokenRotationStatus>();

  const rotations = [...state.rotations].sort(
    (a, b) =>
      ms(a.metadata.creationTimestamp) - ms(b.metadata.creationTimestamp) ||
      (a.metadata.name < b.metadata.name ? -1 : 1),
  );

  for (const r of rotations) {
    const decision = decideRotation(rotationFacts(r, d, blocked, now, deps.graceMs));
    if (decision.status) pendingStatus.set(r.metadata.name, decision.status);
    if (decision.actions) actions.push(...decision.actions);
    if (decision.requeueAfterMs !== undefined) requeue(decision.requeueAfterMs);
    if (decision.candidate) candidates.push(decision.candidate);
  }

  // Apply the first candidate; the others wait for the next reconcile (serialized).
  const first = candidates[0];
  if (first && d && state.secret && d.status?.token) {
    const r = first.rotation;
    const applied = applyRotation(first, d, d.status.token, state.secret, rotations, {
      base: pendingStatus.get(r.metadata.name) ?? { ...(r.status ?? {}) },
      now,
      issue: deps.issue,
      sealer: deps.sealer,
    });
    actions.push(...applied.actions);
    if (applied.status) pendingStatus.set(r.metadata.name, applied.status);
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
 * Applies the rotation that is due: the intent on the rotation, the new token in the Secret (with
 * the status that revokes the old one if the write is refused), the domain's status write that
 * switches the token and records the rotation as applied (the commit point), and the Events. Returns
 * those actions and the rotation's final status, written after the commit.
 */
export function applyRotation(
  first: Candidate,
  d: ScimDomain,
  old: TokenStatus,
  secret: SecretView,
  rotations: readonly ScimTokenRotation[],
  deps: { base: ScimTokenRotationStatus; now: Date; issue: () => NewToken; sealer: TokenSealer },
): { actions: RotationAction[]; status?: ScimTokenRotationStatus } {
  const { base, now } = deps;
  const nowIso = now.toISOString();
  const actions: RotationAction[] = [];
  let status: ScimTokenRotationStatus | undefined;
  const r = first.rotation;
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
    appliedRotations: recordApplied(d.status?.appliedRotations ?? [], first.key, rotations),
    lastRotation: {
      name: r.metadata.name,
      uid: r.metadata.uid ?? '',
      time: nowIso,
      ...(requestedBy ? { requestedBy } : {}),
    },
  };
  const rotated: ScimDomainStatus = { ...rotateOut(d.status ?? {}, nowIso, overlapUntil), ...bookkeeping };
  // The API server refused the Secret write: the rotation still revokes the old token — overlap
  // or not, nothing replaces it yet — and the domain has no token until a retry delivers one
  // (SPEC §2.3).
  const ifRefused = withConditions(
    { ...rotateOut(d.status ?? {}, nowIso), ...bookkeeping },
    d.metadata.generation,
    nowIso,
    {
      status: 'False',
      reason: DomainReason.ApiError,
      message: `token ${old.id} (${old.fingerprint}) is revoked by ScimTokenRotation ${r.metadata.name}; its replacement could not be written to Secret ${secret.name} and will be retried`,
    },
  );
  delete ifRefused.token;
  actions.push(
    ...writeSecret(
      secret,
      secret.name,
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
  if (first.scheduledTime) {
    const schedule = parseSchedule(r.spec.schedule ?? '', r.spec.timeZone ?? 'UTC');
    if (schedule.ok) {
      status = scheduledRunStatus(
        { rotation: r, status: base, generation: r.metadata.generation, now, schedule },
        first.scheduledTime,
        { result: 'Rotated', newToken: tokenRef(token) },
        tokenRef(old),
      );
    }
  } else {
    status = {
      ...withConditions(base, r.metadata.generation, nowIso, {
        status: 'True',
        reason: RotationReason.Rotated,
        message: what,
      }),
      rotatedAt: nowIso,
      previousToken: tokenRef(old),
      newToken: tokenRef(token),
    };
  }
  actions.push(
    rotationEvent(r, 'Normal', EventReason.TokenRotated, `${what} for ScimDomain ${d.metadata.name}`),
  );
  actions.push({ kind: 'metric', trigger: first.scheduledTime ? 'schedule' : 'manual', result: 'rotated' });
  return { actions, ...(status ? { status } : {}) };
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
