// The ApiError report (SPEC §2.3; kstatus Reconciling=True reason ApiError): how a write the API
// server refuses shows on a ScimDomain while the work queue retries, and when the report goes. One
// owner for the rule that the controller's error path sets it, a plan never drops it
// (withConditions), and only a reconcile that finds nothing left to write clears it. Pure.
import { ConditionType, DomainReason, type ScimDomain, type ScimDomainStatus } from '../../api/types.js';
import { getCondition, removeCondition, setCondition, type Condition } from '../conditions.js';

/** Whether the conditions carry the ApiError report (Reconciling=True reason ApiError). */
export function reportsApiError(conditions: readonly Condition[] | undefined): boolean {
  return getCondition(conditions, ConditionType.Reconciling)?.reason === DomainReason.ApiError;
}

/** Whether the domain's status carries the ApiError report. */
export function hasApiError(d: ScimDomain): boolean {
  return reportsApiError(d.status?.conditions);
}

/** The status with the ApiError report cleared: whatever was refused has gone through since. */
export function withoutApiError(status: ScimDomainStatus | undefined): ScimDomainStatus {
  return { ...(status ?? {}), conditions: removeCondition(status?.conditions, ConditionType.Reconciling) };
}

/**
 * The status that reports a failing write (`errorText`: the API error as it may be shown) on top of
 * `base` — the domain's status, or after a refused Secret write the status that revokes regardless
 * (Action.ifRefused). A domain without a token is also Ready=False, saying what was revoked and why
 * nothing replaced it yet; one with a token stays Ready: its token is valid, and flipping Ready would
 * revoke it at the verifier.
 */
export function withApiError(
  d: ScimDomain,
  errorText: string,
  now: string,
  base: ScimDomainStatus = d.status ?? {},
): ScimDomainStatus {
  const message = `the operator could not write to the API server and will retry: ${errorText}`;
  let conditions = setCondition(
    base.conditions,
    {
      type: ConditionType.Reconciling,
      status: 'True',
      reason: DomainReason.ApiError,
      message,
      observedGeneration: d.metadata.generation,
    },
    now,
  );
  if (!base.token) {
    const revoked = base === d.status ? undefined : getCondition(base.conditions, ConditionType.Ready);
    conditions = setCondition(
      conditions,
      {
        type: ConditionType.Ready,
        status: 'False',
        reason: DomainReason.ApiError,
        message: revoked ? `${revoked.message}: ${errorText}` : message,
        observedGeneration: d.metadata.generation,
      },
      now,
    );
  }
  return { ...base, conditions };
}
