// Token max age (SPEC §1.1 `spec.maxTokenAge`): when a domain's token has been current for longer
// than its owner allows, the domain says so — a `TokenOverdue` condition and a Warning Event — and
// the metrics export the instant (`scim_token_expiry_timestamp_seconds`). It rotates nothing: a
// rotation revokes the token at once, which only the people who can paste the new one into the
// identity provider may decide (SPEC §2.2).
//
// Pure: the caller passes the clock's reading. `withTokenAge` runs after the ScimDomain plan
// (rules/scimdomain/plan.ts) and adjusts the status write that plan settled on, so the plan itself knows
// nothing of token age.
import { ConditionType, EventReason, type ScimDomain, type ScimDomainStatus } from '../api/types.js';
import { conditionsEqualIgnoringTime, getCondition, removeCondition, setCondition } from './conditions.js';
import type { DomainPlan } from './scimdomain/plan.js';

/** A Go duration limited to hours, minutes and seconds, e.g. `720h`, `90m`, `1h30m`. */
export const MAX_TOKEN_AGE_PATTERN = '^([0-9]+(h|m|s))+$';
const WHOLE = new RegExp(MAX_TOKEN_AGE_PATTERN);
const PART = /([0-9]+)(h|m|s)/g;
const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1_000 } as const;

/** The longest requeue asked for: past it the periodic resync (or this cap) looks again. */
export const MAX_REQUEUE_MS = 24 * 3_600_000;

export const TokenOverdueReason = {
  /** The token is older than spec.maxTokenAge. */
  Exceeded: 'MaxTokenAgeExceeded',
  /** The token is younger than spec.maxTokenAge. */
  Within: 'WithinMaxTokenAge',
} as const;

/** Milliseconds of a duration such as `720h` or `1h30m`; undefined when it is not one, or not positive. */
export function parseMaxTokenAge(text: string | undefined): number | undefined {
  if (text === undefined || !WHOLE.test(text)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(PART)) ms += Number(amount) * UNIT_MS[unit as 'h' | 'm' | 's'];
  return Number.isSafeInteger(ms) && ms > 0 ? ms : undefined;
}

/** When a token issued at `issuedAt` passes `maxTokenAge`; undefined without a (valid) max age. */
export function tokenExpiry(issuedAt: Date, maxTokenAge: string | undefined): Date | undefined {
  const maxMs = parseMaxTokenAge(maxTokenAge);
  const issuedMs = issuedAt.getTime();
  return maxMs === undefined || !Number.isFinite(issuedMs) ? undefined : new Date(issuedMs + maxMs);
}

export type TokenAgeVerdict =
  | { kind: 'unlimited' }
  | { kind: 'within'; overdueAt: Date; inMs: number }
  | { kind: 'overdue'; overdueAt: Date };

/** How the current token of `status` stands against `maxTokenAge` at `now`. */
export function judgeTokenAge(
  status: ScimDomainStatus | undefined,
  maxTokenAge: string | undefined,
  now: Date,
): TokenAgeVerdict {
  const issuedAt = status?.token?.issuedAt;
  const overdueAt = issuedAt ? tokenExpiry(new Date(issuedAt), maxTokenAge) : undefined;
  if (!overdueAt) return { kind: 'unlimited' };
  const inMs = overdueAt.getTime() - now.getTime();
  return inMs > 0 ? { kind: 'within', overdueAt, inMs } : { kind: 'overdue', overdueAt };
}

/**
 * `plan` with the TokenOverdue condition brought up to date in the status it leaves behind (its last
 * status write, or the domain's status when it writes none), a Warning Event when the token has just
 * become overdue, and the delay after which it becomes overdue (capped at MAX_REQUEUE_MS).
 */
export function withTokenAge(
  plan: DomainPlan,
  domain: ScimDomain,
  now: Date,
): DomainPlan & { requeueAfterMs?: number } {
  if (domain.metadata.deletionTimestamp) return plan;
  const actions = [...plan.actions];
  const lastWrite = actions.findLastIndex((a) => a.kind === 'writeStatus');
  const written = actions[lastWrite];
  const status = written?.kind === 'writeStatus' ? written.status : (domain.status ?? {});
  const maxTokenAge = domain.spec.maxTokenAge;
  const verdict = judgeTokenAge(status, maxTokenAge, now);
  const generation = domain.metadata.generation;
  const token = status.token;

  const conditions =
    verdict.kind === 'unlimited' || !token
      ? removeCondition(status.conditions, ConditionType.TokenOverdue)
      : setCondition(
          status.conditions,
          {
            type: ConditionType.TokenOverdue,
            ...(verdict.kind === 'overdue'
              ? {
                  status: 'True' as const,
                  reason: TokenOverdueReason.Exceeded,
                  message: `token ${token.id} (${token.fingerprint}) was issued at ${token.issuedAt} and is older than spec.maxTokenAge (${maxTokenAge}) since ${verdict.overdueAt.toISOString()}; rotate it`,
                }
              : {
                  status: 'False' as const,
                  reason: TokenOverdueReason.Within,
                  message: `token ${token.id} (${token.fingerprint}) is within spec.maxTokenAge (${maxTokenAge}) until ${verdict.overdueAt.toISOString()}`,
                }),
            ...(generation !== undefined ? { observedGeneration: generation } : {}),
          },
          now.toISOString(),
        );
  const requeue = verdict.kind === 'within' ? { requeueAfterMs: Math.min(verdict.inMs, MAX_REQUEUE_MS) } : {};
  if (conditionsEqualIgnoringTime(status.conditions ?? [], conditions)) return { ...plan, ...requeue };

  const next: ScimDomainStatus = { ...status, conditions };
  if (written?.kind === 'writeStatus') actions[lastWrite] = { kind: 'writeStatus', status: next };
  else actions.push({ kind: 'writeStatus', status: next });
  const wasOverdue = getCondition(domain.status?.conditions, ConditionType.TokenOverdue)?.status === 'True';
  if (verdict.kind === 'overdue' && token && !wasOverdue) {
    actions.push({
      kind: 'event',
      type: 'Warning',
      reason: EventReason.TokenOverdue,
      message: `token ${token.id} (${token.fingerprint}) is older than spec.maxTokenAge (${maxTokenAge}): rotate it (kubectl scim rotate ${domain.metadata.name})`,
    });
  }
  return { ...plan, actions, ...requeue };
}
