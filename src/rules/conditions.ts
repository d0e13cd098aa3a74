// metav1.Condition helpers for status (kstatus style): set/remove/read conditions without mutating
// the object we read, and compare condition lists so a reconcile that changes nothing writes nothing.
//
// Pure: the caller passes `now` as an RFC 3339 string; this module never reads the clock.

import type { Condition } from '../api/types.js';

export type { Condition, ConditionStatus } from '../api/types.js';

/** A condition as a caller wants it to be; `setCondition` works out `lastTransitionTime`. */
export type ConditionUpdate = Omit<Condition, 'lastTransitionTime'>;

type Conditions = readonly Condition[] | undefined;

/**
 * Ready for a state the user asked for and the operator has reached, although it holds no valid token
 * (a suspension, SPEC §2.3). kstatus — Flux's health checks, kpt, Argo CD through gitops-engine — reads
 * every Ready=False as InProgress, so a desired state reported as False never finishes a rollout;
 * Ready=True with a reason that names the state reads as Current and still says what it is.
 * Whether a token is valid never follows from Ready alone: the verifier and the rotation plan check
 * spec.suspend and status.token (docs/gitops.md has the state-by-state table).
 */
export function desiredStateReady(reason: string, message: string) {
  return { status: 'True' as const, reason, message };
}

/**
 * Returns a new list with `next` in place of the condition of its type (appended if absent).
 * `lastTransitionTime` moves to `now` only when the status changes, as Kubernetes defines it; reason,
 * message and observedGeneration always take the new values. Further conditions of the same type
 * (only possible in a hand-edited status) are dropped, since a list-map allows one per type.
 */
export function setCondition(conditions: Conditions, next: ConditionUpdate, now: string): Condition[] {
  const list = conditions ?? [];
  const existing = list.find((c) => c.type === next.type);
  // An empty time can only come from a hand-written status; treat it as unknown rather than keep it.
  const keepTime =
    existing !== undefined && existing.status === next.status && existing.lastTransitionTime !== '';
  const updated = normalize({ ...next, lastTransitionTime: keepTime ? existing.lastTransitionTime : now });

  if (existing === undefined) return [...list.map(normalize), updated];
  const out: Condition[] = [];
  for (const c of list) {
    if (c === existing) out.push(updated);
    else if (c.type !== next.type) out.push(normalize(c));
  }
  return out;
}

/** Returns a new list without any condition of `type`. */
export function removeCondition(conditions: Conditions, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type).map(normalize);
}

export function getCondition(conditions: Conditions, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** True only for status `True`: `Unknown` and a missing condition both mean "not established". */
export function isTrue(conditions: Conditions, type: string): boolean {
  return getCondition(conditions, type)?.status === 'True';
}

/**
 * Whether two condition lists say the same thing, ignoring lastTransitionTime and order (order carries
 * no meaning in a list-map keyed by type, and server-side apply may reorder it). A missing list equals
 * an empty one. Lets callers skip a status write that would change nothing.
 */
export function conditionsEqualIgnoringTime(a: Conditions, b: Conditions): boolean {
  const left = a ?? [];
  const right = b ?? [];
  if (left.length !== right.length) return false;

  const rightByType = new Map(right.map((c) => [c.type, c]));
  const leftTypes = new Set(left.map((c) => c.type));
  if (rightByType.size !== right.length || leftTypes.size !== left.length) {
    // Duplicate types make "the condition of type X" ambiguous; compare position by position.
    return left.every((c, i) => sameIgnoringTime(c, right[i]));
  }
  return left.every((c) => sameIgnoringTime(c, rightByType.get(c.type)));
}

function sameIgnoringTime(a: Condition, b: Condition | undefined): boolean {
  return (
    b !== undefined &&
    a.type === b.type &&
    a.status === b.status &&
    a.reason === b.reason &&
    a.message === b.message &&
    a.observedGeneration === b.observedGeneration
  );
}

// A fresh object with only the metav1.Condition fields, and no `observedGeneration: undefined` key,
// so results deep-equal what the API server returns and never alias the caller's objects.
function normalize(c: Condition): Condition {
  const out: Condition = {
    type: c.type,
    status: c.status,
    reason: c.reason,
    message: c.message,
    lastTransitionTime: c.lastTransitionTime,
  };
  if (c.observedGeneration !== undefined) out.observedGeneration = c.observedGeneration;
  return out;
}
