// When a completed one-shot ScimTokenRotation may be deleted (spec.ttlSecondsAfterFinished, like a
// Job's). Pure. Opt-in only: a rotation without the field is never deleted — GitOps tools would
// re-create a deleted rotation, and the re-created object (a new UID) would rotate again.
//
// "Completed" is final: Ready=True Rotated (rotatedAt is the instant) or Stalled=True (its
// lastTransitionTime). A scheduled rotation never completes.
import { ConditionType, RotationReason, type ScimTokenRotation } from '../../api/types.js';
import { getCondition } from '../conditions.js';

export type TtlDecision =
  /** Not ours to delete (no TTL, scheduled, not completed, already being deleted). */
  | { kind: 'keep'; why: string }
  /** Completed, TTL not yet over: look again after this long. */
  | { kind: 'wait'; afterMs: number }
  | { kind: 'delete'; finishedAt: string };

/** When the rotation completed for good, or undefined while it has not. */
export function finishedAt(r: ScimTokenRotation): string | undefined {
  const conditions = r.status?.conditions;
  const ready = getCondition(conditions, ConditionType.Ready);
  if (ready?.status === 'True' && ready.reason === RotationReason.Rotated) return r.status?.rotatedAt;
  const stalled = getCondition(conditions, ConditionType.Stalled);
  return stalled?.status === 'True' ? stalled.lastTransitionTime : undefined;
}

export function rotationTtl(r: ScimTokenRotation, now: Date): TtlDecision {
  const ttl = r.spec.ttlSecondsAfterFinished;
  if (ttl === undefined) return { kind: 'keep', why: 'no spec.ttlSecondsAfterFinished' };
  if (r.spec.schedule !== undefined) return { kind: 'keep', why: 'a scheduled rotation never finishes' };
  if (r.metadata.deletionTimestamp) return { kind: 'keep', why: 'already being deleted' };
  const finished = finishedAt(r);
  const t = finished === undefined ? NaN : new Date(finished).getTime();
  if (Number.isNaN(t)) return { kind: 'keep', why: 'not completed' };
  const left = t + ttl * 1000 - now.getTime();
  return left > 0 ? { kind: 'wait', afterMs: left } : { kind: 'delete', finishedAt: finished! };
}
