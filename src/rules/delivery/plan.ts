// The delivery decision (SPEC §2.7): whether a steady ScimDomain's current token must be written to
// its identity provider, and the status an attempt's outcome leads to. Pure: time comes in, the
// token is read from the SecretView the reconcile gathered, and the HTTP happens in the controller
// (controllers/scimdomain/deliver.ts through delivery/entra.ts).
//
// Level-triggered: `status.lastDelivery` records which token (fingerprint) went where (target) last,
// or failed to, so a reconcile delivers iff the current token or the target differs from it, or the
// last attempt failed and its backoff has passed. A delivery that succeeds
// ends an overlap (SPEC §2.2): the previous token is revoked by the same status write.
import {
  ConditionType,
  DeliveryReason,
  EventReason,
  SecretKeys,
  type DeliveryTarget,
  type LastDelivery,
  type ScimDomain,
  type ScimDomainStatus,
} from '../../api/types.js';
import { getCondition, removeCondition, setCondition } from '../conditions.js';
import { endOverlap, type Action, type SecretView } from '../scimdomain/plan.js';
import { tokenSha256 } from '../token.js';

export const DEFAULT_CLIENT_ID_KEY = 'clientId';
export const DEFAULT_CLIENT_SECRET_KEY = 'clientSecret';

/** Backoff after failed deliveries of one token: 10s, 20s, 40s … capped at 5 minutes. */
export const DELIVERY_BACKOFF_BASE_MS = 10_000;
export const DELIVERY_BACKOFF_MAX_MS = 5 * 60_000;

/** Everything the controller needs to make one delivery, the token included (never logged). */
export interface DeliveryRequest extends DeliveryTarget {
  credentials: { secretName: string; clientIdKey: string; clientSecretKey: string };
  token: string;
  tokenId: string;
  fingerprint: string;
}

export type DeliveryDecision =
  /** Nothing to deliver now; come back after requeueAfterMs if given (a backoff running). */
  | { kind: 'none'; why: string; requeueAfterMs?: number }
  /** A status write (and Events) without any delivery: delivery removed, or the plaintext gone. */
  | { kind: 'write'; why: string; actions: Action[] }
  | { kind: 'deliver'; request: DeliveryRequest };

export type DeliveryOutcome = { ok: true } | { ok: false; message: string; retryAfterMs?: number };

export interface DeliveryState {
  domain: ScimDomain;
  /** The domain's Secret; its data is decoded (SecretView). */
  secret?: SecretView;
}

/** The wait after `failures` failed attempts in a row (pure; no jitter: the work queue adds its own). */
export function deliveryBackoffMs(failures: number): number {
  const n = Math.max(1, Math.min(failures, 16));
  return Math.min(DELIVERY_BACKOFF_BASE_MS * 2 ** (n - 1), DELIVERY_BACKOFF_MAX_MS);
}

const fail = (message: string) => ({
  status: 'False' as const,
  reason: DeliveryReason.DeliveryFailed,
  message,
});

/** Decides what delivery a steady domain needs (its own plan and its rotations wrote nothing). */
export function planDelivery(state: DeliveryState, now: Date): DeliveryDecision {
  const d = state.domain;
  const status = d.status ?? {};
  const entra = d.spec.delivery?.entraID;
  if (!entra) {
    if (!getCondition(status.conditions, ConditionType.Delivered) && !status.lastDelivery)
      return { kind: 'none', why: 'no delivery configured' };
    // Delivery was turned off: the condition and the record go with it (absent without delivery).
    const next: ScimDomainStatus = {
      ...status,
      conditions: removeCondition(status.conditions, ConditionType.Delivered),
    };
    delete next.lastDelivery;
    return { kind: 'write', why: 'delivery removed', actions: [{ kind: 'writeStatus', status: next }] };
  }
  const token = status.token;
  const ready = getCondition(status.conditions, ConditionType.Ready);
  if (!token || d.spec.suspend === true || ready?.status !== 'True')
    return { kind: 'none', why: 'no current token to deliver' };
  const target: DeliveryTarget = {
    cloud: entra.cloud ?? 'Global',
    tenantId: entra.tenantId,
    servicePrincipalId: entra.servicePrincipalId,
    baseAddress: d.spec.scimBaseUrl ?? '',
  };
  const last = sameAttempt(status.lastDelivery, token.fingerprint, target) ? status.lastDelivery : undefined;
  if (last?.result === 'Success') return { kind: 'none', why: 'current token already delivered' };
  if (last) {
    const dueMs = Date.parse(last.time) + deliveryBackoffMs(last.failures ?? 1) - now.getTime();
    if (dueMs > 0) return { kind: 'none', why: 'waiting for the delivery backoff', requeueAfterMs: dueMs };
  }

  const plaintext = state.secret?.data[SecretKeys.token];
  const secretName = state.secret?.name ?? status.secretName ?? '';
  const cannot = (message: string): DeliveryDecision =>
    // Retrying changes nothing until the spec or the token changes: report once, then stay quiet.
    last?.message === message
      ? { kind: 'none', why: message }
      : {
          kind: 'write',
          why: message,
          actions: failureActions(
            d,
            { fingerprint: token.fingerprint, ...target },
            { ok: false, message },
            now,
          ).actions,
        };
  if (plaintext === undefined || tokenSha256(plaintext) !== token.sha256)
    return cannot(
      `token ${token.id} (${token.fingerprint}) cannot be delivered: its plaintext is no longer in Secret ${secretName} (revealOnce, and it was revealed); rotate the token to deliver a new one, or set revealOnce to false`,
    );
  if (!d.spec.scimBaseUrl)
    return cannot(
      `token ${token.id} (${token.fingerprint}) cannot be delivered: spec.scimBaseUrl is not set (Entra ID needs it as the Tenant URL)`,
    );
  return {
    kind: 'deliver',
    request: {
      ...target,
      credentials: {
        secretName: entra.credentialsSecretRef.name,
        clientIdKey: entra.credentialsSecretRef.clientIdKey ?? DEFAULT_CLIENT_ID_KEY,
        clientSecretKey: entra.credentialsSecretRef.clientSecretKey ?? DEFAULT_CLIENT_SECRET_KEY,
      },
      token: plaintext,
      tokenId: token.id,
      fingerprint: token.fingerprint,
    },
  };
}

/**
 * The status write and Events after an attempt to deliver `request`, planned on `d` (the write
 * carries d's resourceVersion, so a token that changed meanwhile makes it conflict and re-plan).
 */
export function recordDelivery(
  d: ScimDomain,
  request: Attempted & { tokenId: string },
  outcome: DeliveryOutcome,
  now: Date,
): { actions: Action[]; requeueAfterMs?: number } {
  if (!outcome.ok) return failureActions(d, request, outcome, now);
  const status = d.status ?? {};
  const at = now.toISOString();
  const message = `token ${request.tokenId} (${request.fingerprint}) delivered to Entra ID service principal ${request.servicePrincipalId} (tenant ${request.tenantId})`;
  const next: ScimDomainStatus = {
    ...status,
    conditions: setCondition(
      status.conditions,
      {
        type: ConditionType.Delivered,
        status: 'True',
        reason: DeliveryReason.TokenDelivered,
        message,
        ...(d.metadata.generation !== undefined ? { observedGeneration: d.metadata.generation } : {}),
      },
      at,
    ),
    lastDelivery: {
      time: at,
      fingerprint: request.fingerprint,
      target: targetOf(request),
      result: 'Success',
      message,
    },
  };
  const actions: Action[] = [];
  // The identity provider now holds the current token: an overlap's previous token is done (SPEC §2.2).
  const previous = status.previousToken;
  const written = endOverlap(next, at);
  actions.push({ kind: 'writeStatus', status: written });
  actions.push({ kind: 'event', type: 'Normal', reason: EventReason.TokenDelivered, message });
  if (previous)
    actions.push({
      kind: 'event',
      type: 'Normal',
      reason: EventReason.TokenRevoked,
      message: `token ${previous.id} (${previous.fingerprint}) revoked: its replacement ${request.tokenId} was delivered to Entra ID`,
    });
  return { actions };
}

/** A token and where it was to go. */
type Attempted = DeliveryTarget & { fingerprint: string };

const targetOf = (a: DeliveryTarget): DeliveryTarget => ({
  cloud: a.cloud,
  tenantId: a.tenantId,
  servicePrincipalId: a.servicePrincipalId,
  baseAddress: a.baseAddress,
});

/** Whether `last` was an attempt to deliver this token to this target. */
function sameAttempt(last: LastDelivery | undefined, fingerprint: string, t: DeliveryTarget): boolean {
  const lt = last?.target;
  return (
    last?.fingerprint === fingerprint &&
    lt?.cloud === t.cloud &&
    lt.tenantId === t.tenantId &&
    lt.servicePrincipalId === t.servicePrincipalId &&
    lt.baseAddress === t.baseAddress
  );
}

function failureActions(
  d: ScimDomain,
  attempted: Attempted,
  outcome: Extract<DeliveryOutcome, { ok: false }>,
  now: Date,
): { actions: Action[]; requeueAfterMs: number } {
  const status = d.status ?? {};
  const at = now.toISOString();
  const before = status.lastDelivery;
  const failures =
    sameAttempt(before, attempted.fingerprint, attempted) && before?.result === 'Failure'
      ? (before.failures ?? 1) + 1
      : 1;
  const lastDelivery: LastDelivery = {
    time: at,
    fingerprint: attempted.fingerprint,
    target: targetOf(attempted),
    result: 'Failure',
    message: outcome.message,
    failures,
  };
  const next: ScimDomainStatus = {
    ...status,
    conditions: setCondition(
      status.conditions,
      {
        type: ConditionType.Delivered,
        ...fail(outcome.message),
        ...(d.metadata.generation !== undefined ? { observedGeneration: d.metadata.generation } : {}),
      },
      at,
    ),
    lastDelivery,
  };
  return {
    actions: [
      { kind: 'writeStatus', status: next },
      { kind: 'event', type: 'Warning', reason: EventReason.DeliveryFailed, message: outcome.message },
    ],
    requeueAfterMs: Math.max(deliveryBackoffMs(failures), outcome.retryAfterMs ?? 0),
  };
}
