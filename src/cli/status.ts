// How the CLI reads the status the operator writes: whether a ScimDomain is Ready (or has failed in a
// way waiting will not fix), whether a ScimTokenRotation has rotated, and the secretName to read.
// Pure predicates over the objects, with a readable reason when the answer is "not (yet)".

import {
  ConditionType,
  DomainReason,
  RotationReason,
  defaultSecretName,
  type ScimDomain,
  type ScimTokenRotation,
  type TokenRef,
  type TokenStatus,
} from '../api/types.js';
import { getCondition, isTrue } from '../rules/conditions.js';

export type DomainState =
  | { kind: 'ready'; token: TokenStatus }
  /** Not Ready, and waiting will not change that: the user has to act. */
  | { kind: 'failed'; reason: string; message: string }
  /** Not Ready yet; `reason`/`message` say what it is waiting for. */
  | { kind: 'pending'; reason: string; message: string };

// Reasons without a token that only a change of spec (or of another object) ends.
const TERMINAL_DOMAIN_REASONS: ReadonlySet<string> = new Set([
  DomainReason.Suspended,
  DomainReason.DomainConflict,
  DomainReason.SecretConflict,
  DomainReason.InvalidSpec,
]);

export function domainState(d: ScimDomain): DomainState {
  const ready = getCondition(d.status?.conditions, ConditionType.Ready);
  if (ready === undefined) {
    return {
      kind: 'pending',
      reason: 'NotReconciled',
      message: 'the operator has not written a status yet (is it running?)',
    };
  }
  const current =
    ready.observedGeneration === undefined || ready.observedGeneration === d.metadata.generation;
  if (!current) {
    return {
      kind: 'pending',
      reason: 'Reconciling',
      message: `the operator has not yet processed generation ${d.metadata.generation ?? '?'} of the spec`,
    };
  }
  const token = d.status?.token;
  if (ready.status === 'True' && token !== undefined && d.spec.suspend !== true)
    return { kind: 'ready', token };
  const stalled = getCondition(d.status?.conditions, ConditionType.Stalled);
  if (stalled?.status === 'True') return { kind: 'failed', reason: stalled.reason, message: stalled.message };
  // A suspended domain reads Ready=True Suspended (a desired state, Current to kstatus) yet holds no token.
  if (
    (ready.status === 'False' || ready.reason === DomainReason.Suspended) &&
    TERMINAL_DOMAIN_REASONS.has(ready.reason)
  ) {
    return { kind: 'failed', reason: ready.reason, message: ready.message };
  }
  return { kind: 'pending', reason: ready.reason, message: ready.message };
}

/** What the user can do about a domain that is not Ready for `reason`. */
export function notReadyHint(d: ScimDomain, reason: string): string {
  const ns = d.metadata.namespace;
  const name = d.metadata.name;
  switch (reason) {
    case DomainReason.Suspended:
      return `Provisioning is suspended; to enable it (a new token is issued): kubectl patch scimdomain ${name} -n ${ns} --type merge -p '{"spec":{"suspend":false}}'`;
    case DomainReason.DomainConflict:
      return 'Another ScimDomain already owns this domain; delete one of them.';
    case DomainReason.SecretConflict:
      return `Secret ${secretNameOf(d)} exists and is not managed by this ScimDomain; delete or rename it, or set spec.secretName.`;
    case 'NotReconciled':
    case 'Reconciling':
      return 'Is the operator running and watching this namespace? (npm run demo starts one locally.)';
    default:
      return `See: kubectl describe scimdomain ${name} -n ${ns}`;
  }
}

/** The Secret holding the domain's token: status (what the operator wrote) before spec and the default. */
export function secretNameOf(d: ScimDomain): string {
  return d.status?.secretName ?? d.spec.secretName ?? defaultSecretName(d.metadata.name);
}

export type RotationState =
  | { kind: 'rotated'; newToken: TokenRef | undefined; previousToken: TokenRef | undefined }
  | { kind: 'failed'; reason: string; message: string }
  | { kind: 'pending'; reason: string; message: string };

export function rotationState(r: ScimTokenRotation): RotationState {
  const ready = getCondition(r.status?.conditions, ConditionType.Ready);
  if (ready?.status === 'True' && ready.reason === RotationReason.Rotated) {
    return { kind: 'rotated', newToken: r.status?.newToken, previousToken: r.status?.previousToken };
  }
  if (isTrue(r.status?.conditions, ConditionType.Stalled)) {
    const stalled = getCondition(r.status?.conditions, ConditionType.Stalled)!;
    return { kind: 'failed', reason: stalled.reason, message: stalled.message };
  }
  if (ready === undefined) {
    return {
      kind: 'pending',
      reason: 'NotReconciled',
      message: 'the operator has not picked the rotation up yet (is it running?)',
    };
  }
  // Ready=False DomainNotFound/ProvisioningNotEnabled: the operator retries for a grace period, and
  // the domain may well become Ready again (an edit being processed), so this is not final.
  return { kind: 'pending', reason: ready.reason, message: ready.message };
}
