// What the ScimDomain decision (SPEC §2.1, §2.3, §2.4, §2.5) is made of: the observation it reads,
// the writes it can plan (Action), how a Secret relates to status (judgeSecret) and the status
// transforms that the domain, rotation and delivery plans share. The decision itself, from the
// observation to an ordered list of writes, is the chain of named policies in policies.ts. Pure: time
// and token generation come in through PlanDeps, nothing is read or written here.
//
// The Secret carries the token generation it holds (annotation). New tokens are only ever written
// over a Secret whose generation equals the one recorded in status, as generation + 1, and status is
// then switched in a write that carries the domain's resourceVersion. So a Secret one generation
// ahead of status is a write whose status write did not happen (crash, conflict): it is adopted,
// never re-issued — but only if its seal (token-seal.ts) proves the operator wrote it, because the
// namespace `edit` role may write Secrets too; anything else that disagrees with status is tampering
// or loss (SPEC §2.3).
//
// Revocation never waits for a Secret write: every Secret write that replaces a token carries the
// status that revokes the old one anyway (`ifRefused`), which the reconciler writes when the API
// server refuses the Secret write (an immutable Secret, quota, admission, a conflict).
import {
  ConditionType,
  GENERATION_ANNOTATION,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  REVEALED_ANNOTATION,
  REVOKED_TOKENS_LIMIT,
  ROTATION_ANNOTATION,
  ROTATION_NAME_ANNOTATION,
  SecretKeys,
  defaultSecretName,
  type RevocationReason,
  type RevokedToken,
  type ScimDomain,
  type ScimDomainStatus,
  type TokenStatus,
} from '../../api/types.js';
import { SEAL_ANNOTATION, type TokenBinding, type TokenSealer } from '../token-seal.js';
import {
  conditionsEqualIgnoringTime,
  getCondition,
  removeCondition,
  setCondition,
  type Condition,
} from '../conditions.js';
import { reportsApiError } from './api-error.js';
import { TOKEN_ID_PATTERN, checkTokenFormat, tokenFingerprint, tokenSha256 } from '../token.js';

/** Why a token was (re)written; kept on the Secret so that adopting an unrecorded write knows. */
export const CAUSE_ANNOTATION = 'scim.tokens.dev/issue-cause';
export type IssueCause = 'Issued' | 'SecretLost' | 'SecretTampered' | 'Rotated' | 'Suspended';

/** With an overlap: when the token a rotation replaced stops verifying (sealed with the new token). */
export const OVERLAP_UNTIL_ANNOTATION = 'scim.tokens.dev/overlap-until';

/** kubectl's record of the last applied object: it can hold a Secret's data in plain sight. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * The Secret annotations the operator owns: it writes them and a write replaces them; any other
 * annotation (added by people or tools) is carried over, except LAST_APPLIED_ANNOTATION.
 */
export const MANAGED_SECRET_ANNOTATIONS: readonly string[] = [
  GENERATION_ANNOTATION,
  CAUSE_ANNOTATION,
  REVEALED_ANNOTATION,
  ROTATION_ANNOTATION,
  ROTATION_NAME_ANNOTATION,
  OVERLAP_UNTIL_ANNOTATION,
  SEAL_ANNOTATION,
];

/** The operator-owned annotations a Secret holds (MANAGED_SECRET_ANNOTATIONS), as they are. */
export function managedAnnotations(annotations: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of MANAGED_SECRET_ANNOTATIONS) {
    const v = annotations[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** The annotations a Secret write carries over: everything not operator-owned, but LAST_APPLIED_ANNOTATION. */
export function carriedOverAnnotations(annotations: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(annotations))
    if (!MANAGED_SECRET_ANNOTATIONS.includes(k) && k !== LAST_APPLIED_ANNOTATION) out[k] = v;
  return out;
}

// A Kubernetes object name (RFC 1123 subdomain): what a rotation name copied into status must be.
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** A Secret as the planner sees it: data already decoded. */
export interface SecretView {
  name: string;
  uid: string;
  resourceVersion: string;
  type?: string;
  /** `immutable: true`: the Secret can only be deleted and created again, never updated. */
  immutable?: boolean;
  controllerUid?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  data: Record<string, string>;
}

export interface Claimant {
  namespace: string;
  name: string;
  creationTimestamp: string;
}

/** What the ScimDomain plan reads: the gathered observation of one domain and its Secrets. */
export interface DomainObservation {
  domain: ScimDomain;
  /** Every ScimDomain that claims the same spec.domain, this one included. */
  claimants: Claimant[];
  /** The Secret at the effective secret name, if any. */
  secret?: SecretView;
  /** The Secret named in status.secretName when that differs from the effective name. */
  previousSecret?: SecretView;
  /**
   * What the controller saw of spec.suspend since the generation its Ready condition records:
   * `suspended` if some generation in between was suspended, `unknown` if it did not see them all
   * (see suspendedSinceRecorded). Absent: none seen.
   */
  suspendHistory?: GenerationHistory;
}

/** Contiguous generations of one ScimDomain seen by the controller's watch, and the last suspended one. */
export interface GenerationHistory {
  uid: string;
  /** First and last generation of the unbroken run of generations seen. */
  from: number;
  to: number;
  /** The highest generation seen with spec.suspend true; 0 if none. */
  lastSuspended: number;
}

/** A token just issued, with the SHA-256 its issuer computed (status and seal reuse it). */
export interface NewToken {
  token: string;
  id: string;
  sha256: string;
}

export interface PlanDeps {
  now: string;
  issue: () => NewToken;
  sealer: TokenSealer;
}

export interface SecretContent {
  data: Record<string, string>;
  annotations: Record<string, string>;
  labels: Record<string, string>;
}

/**
 * `ifRefused`: the domain status to write when the API server refuses this Secret write — the
 * revocation that must not wait for it (SPEC §2.3).
 */
export type Action =
  | { kind: 'createSecret'; name: string; content: SecretContent; ifRefused?: ScimDomainStatus }
  | {
      kind: 'replaceSecret';
      name: string;
      resourceVersion: string;
      content: SecretContent;
      ifRefused?: ScimDomainStatus;
    }
  | {
      kind: 'deleteSecret';
      name: string;
      uid: string;
      resourceVersion: string;
      ifRefused?: ScimDomainStatus;
    }
  | { kind: 'writeStatus'; status: ScimDomainStatus }
  | { kind: 'event'; type: 'Normal' | 'Warning'; reason: string; message: string };

export interface DomainPlan {
  actions: Action[];
  /** What the plan decided, for logs and tests (never token material). */
  outcome: string;
  /** Come back then even without an event (the end of an overlap). */
  requeueAfterMs?: number;
}

export function effectiveSecretName(d: ScimDomain): string {
  return d.spec.secretName ?? defaultSecretName(d.metadata.name);
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The oldest claim wins: creationTimestamp, then namespace/name. */
export function domainOwner(claimants: readonly Claimant[]): Claimant | undefined {
  return [...claimants].sort(
    (a, b) =>
      compare(a.creationTimestamp, b.creationTimestamp) ||
      compare(a.namespace, b.namespace) ||
      compare(a.name, b.name),
  )[0];
}

export type SecretVerdict =
  | { kind: 'missing' }
  | { kind: 'foreign' }
  | { kind: 'consistent' }
  | {
      kind: 'pending';
      token: string;
      id: string;
      generation: number;
      cause: IssueCause;
      rotationUid?: string;
      rotationName?: string;
      overlapUntil?: string;
    }
  | { kind: 'empty'; generation: number }
  | { kind: 'tampered' };

function secretGeneration(s: SecretView): number {
  const n = Number(s.annotations[GENERATION_ANNOTATION]);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

/** A token whose own hash matches the Secret's recorded hash, in the right format. */
function selfConsistentToken(s: SecretView): string | undefined {
  const token = s.data[SecretKeys.token];
  if (token === undefined || checkTokenFormat(token) !== 'ok') return undefined;
  return tokenSha256(token) === s.data[SecretKeys.sha256] ? token : undefined;
}

/** How the Secret relates to the token recorded in status (SPEC §2.3). */
const CAUSES: readonly IssueCause[] = ['Issued', 'SecretLost', 'SecretTampered', 'Rotated', 'Suspended'];

export function judgeSecret(
  secret: SecretView | undefined,
  domainUid: string,
  recorded: TokenStatus | undefined,
  revoked: readonly RevokedToken[],
  sealer: TokenSealer,
): SecretVerdict {
  if (!secret) return { kind: 'missing' };
  if (secret.controllerUid !== domainUid) return { kind: 'foreign' };
  const generation = secretGeneration(secret);
  const token = secret.data[SecretKeys.token];
  if (recorded) {
    const hashMatches = secret.data[SecretKeys.sha256] === recorded.sha256;
    if (hashMatches && (token === undefined || tokenSha256(token) === recorded.sha256))
      return { kind: 'consistent' };
  }
  const own = selfConsistentToken(secret);
  const expected = (recorded?.generation ?? generation - 1) + 1;
  // A revoked token never comes back, whatever the Secret says (e.g. a scrub that has not happened yet).
  const wasRevoked = own !== undefined && revoked.some((r) => r.fingerprint === tokenFingerprint(own));
  if (
    own !== undefined &&
    !wasRevoked &&
    generation === expected &&
    (!recorded || generation > recorded.generation)
  ) {
    const pending = sealedWrite(secret, own, domainUid, Math.max(generation, 1), sealer);
    if (pending) return pending;
  }
  if (!recorded && token === undefined) return { kind: 'empty', generation };
  return { kind: 'tampered' };
}

/** The unrecorded write a Secret holds, if the operator's seal over it verifies; undefined otherwise. */
function sealedWrite(
  secret: SecretView,
  token: string,
  domainUid: string,
  generation: number,
  sealer: TokenSealer,
): Extract<SecretVerdict, { kind: 'pending' }> | undefined {
  const a = secret.annotations;
  const cause = (a[CAUSE_ANNOTATION] ?? 'Issued') as IssueCause;
  const id = secret.data[SecretKeys.id] ?? '';
  const rotationUid = a[ROTATION_ANNOTATION];
  const rotationName = a[ROTATION_NAME_ANNOTATION];
  const overlapUntil = a[OVERLAP_UNTIL_ANNOTATION];
  // Strings that go into status must be what the operator writes, sealed or not.
  if (!CAUSES.includes(cause) || !TOKEN_ID_PATTERN.test(id)) return undefined;
  if (rotationName !== undefined && !OBJECT_NAME.test(rotationName)) return undefined;
  if (overlapUntil !== undefined && Number.isNaN(Date.parse(overlapUntil))) return undefined;
  const binding: TokenBinding = {
    domainUid,
    generation,
    sha256: tokenSha256(token),
    id,
    cause,
    ...(rotationUid !== undefined ? { rotationKey: rotationUid } : {}),
    ...(rotationName !== undefined ? { rotationName } : {}),
    ...(overlapUntil !== undefined ? { overlapUntil } : {}),
  };
  if (!sealer.verify(binding, a[SEAL_ANNOTATION])) return undefined;
  return {
    kind: 'pending',
    token,
    id,
    generation,
    cause,
    ...(rotationUid ? { rotationUid } : {}),
    ...(rotationName ? { rotationName } : {}),
    ...(overlapUntil ? { overlapUntil } : {}),
  };
}

/**
 * The annotations of a Secret that receives a new token: its generation, why it was written, the
 * rotation that wrote it, and the seal over all of that.
 */
export function newTokenAnnotations(
  sealer: TokenSealer,
  domainUid: string,
  token: { id: string; sha256: string; generation: number },
  cause: IssueCause,
  rotation?: { key: string; name: string; overlapUntil?: string },
): Record<string, string> {
  const seal = sealer.seal({
    domainUid,
    generation: token.generation,
    sha256: token.sha256,
    id: token.id,
    cause,
    ...(rotation ? { rotationKey: rotation.key, rotationName: rotation.name } : {}),
    ...(rotation?.overlapUntil ? { overlapUntil: rotation.overlapUntil } : {}),
  });
  return {
    [GENERATION_ANNOTATION]: String(token.generation),
    [CAUSE_ANNOTATION]: cause,
    ...(rotation ? { [ROTATION_ANNOTATION]: rotation.key, [ROTATION_NAME_ANNOTATION]: rotation.name } : {}),
    ...(rotation?.overlapUntil ? { [OVERLAP_UNTIL_ANNOTATION]: rotation.overlapUntil } : {}),
    [SEAL_ANNOTATION]: seal,
  };
}

/**
 * The status with an overlap in progress ended: the previous token joins revokedTokens (reason
 * Rotated). Unchanged without one.
 */
export function endOverlap(status: ScimDomainStatus, now: string): ScimDomainStatus {
  const previous = status.previousToken;
  if (!previous) return status;
  const next: ScimDomainStatus = {
    ...status,
    revokedTokens: [
      { id: previous.id, fingerprint: previous.fingerprint, revokedAt: now, reason: 'Rotated' as const },
      ...(status.revokedTokens ?? []),
    ].slice(0, REVOKED_TOKENS_LIMIT),
  };
  delete next.previousToken;
  return next;
}

/**
 * The status after a rotation replaced the current token: the old token revoked at once, or — with
 * an overlap — kept as previousToken until `overlapUntil`. An overlap already in progress ends now
 * (SPEC §2.2: a later rotation ends it at once).
 */
export function rotateOut(status: ScimDomainStatus, now: string, overlapUntil?: string): ScimDomainStatus {
  const ended = endOverlap(status, now);
  const old = status.token;
  if (!old) return ended;
  if (overlapUntil === undefined) return { ...ended, revokedTokens: revoke(ended, 'Rotated', now) };
  return {
    ...ended,
    previousToken: { id: old.id, fingerprint: old.fingerprint, sha256: old.sha256, expiresAt: overlapUntil },
  };
}

/**
 * The writes that make Secret `name` hold `content`: create it, replace it, or — an immutable
 * Secret cannot be updated — delete it (UID and resourceVersion preconditions) and create it again.
 */
export function writeSecret(
  existing: SecretView | undefined,
  name: string,
  content: SecretContent,
  ifRefused?: ScimDomainStatus,
): Action[] {
  const refused = ifRefused ? { ifRefused } : {};
  if (!existing) return [{ kind: 'createSecret', name, content, ...refused }];
  if (existing.immutable === true) {
    return [
      {
        kind: 'deleteSecret',
        name: existing.name,
        uid: existing.uid,
        resourceVersion: existing.resourceVersion,
        ...refused,
      },
      { kind: 'createSecret', name, content, ...refused },
    ];
  }
  return [{ kind: 'replaceSecret', name, resourceVersion: existing.resourceVersion, content, ...refused }];
}

/** The history after the watch showed generation `generation` of a domain (pure). */
export function observeGeneration(
  h: GenerationHistory | undefined,
  uid: string,
  generation: number,
  suspended: boolean,
): GenerationHistory {
  if (h && h.uid === uid && generation <= h.to) return h;
  if (h && h.uid === uid && generation === h.to + 1)
    return { ...h, to: generation, lastSuspended: suspended ? generation : h.lastSuspended };
  return { uid, from: generation, to: generation, lastSuspended: suspended ? generation : 0 };
}

/**
 * Whether the ScimDomain was (or may have been) suspended since the generation its Ready condition
 * records, though it is not suspended now (SPEC §2.3: a token revoked by a suspension never verifies
 * again, even when the suspension is undone before the operator saw it). One generation later is
 * the current spec itself; further back, only an unbroken watch history can tell.
 */
export function suspendedSinceRecorded(
  d: ScimDomain,
  history: GenerationHistory | undefined,
): 'no' | 'yes' | 'unknown' {
  const ready = getCondition(d.status?.conditions, ConditionType.Ready);
  if (!d.status?.token || ready?.status !== 'True') return 'no';
  const recorded = ready.observedGeneration ?? 0;
  const current = d.metadata.generation ?? 0;
  if (current - recorded <= 1) return 'no';
  if (!history || history.uid !== d.metadata.uid || history.from > recorded + 1 || history.to < current)
    return 'unknown';
  return history.lastSuspended > recorded ? 'yes' : 'no';
}

export function secretContent(
  d: ScimDomain,
  token: { token?: string; id?: string; sha256?: string },
  annotations: Record<string, string>,
): SecretContent {
  const data: Record<string, string> = { [SecretKeys.domain]: d.spec.domain };
  if (token.token !== undefined) data[SecretKeys.token] = token.token;
  if (token.sha256 !== undefined) data[SecretKeys.sha256] = token.sha256;
  if (token.id !== undefined) data[SecretKeys.id] = token.id;
  if (d.spec.scimBaseUrl) data[SecretKeys.scimBaseUrl] = d.spec.scimBaseUrl;
  return { data, annotations, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } };
}

function sameRecord(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** The managed keys and labels the Secret should hold for a token it already holds. */
export function desiredForExisting(d: ScimDomain, s: SecretView): SecretContent {
  const revealed = d.spec.revealOnce === true && s.annotations[REVEALED_ANNOTATION] === 'true';
  // Every annotation the seal covers stays as the token's writer left it: stripping one (the
  // rotation's, say) would make the Secret look forged to a replica whose status lags behind.
  const annotations = managedAnnotations(s.annotations);
  return secretContent(
    d,
    {
      ...(revealed ? {} : { token: s.data[SecretKeys.token] }),
      sha256: s.data[SecretKeys.sha256],
      id: s.data[SecretKeys.id],
    },
    annotations,
  );
}

/** Whether the Secret differs from `want` in what the operator owns (or still holds kubectl's copy). */
export function secretNeedsUpdate(s: SecretView, want: SecretContent): boolean {
  return (
    !sameRecord(s.data, want.data) ||
    s.annotations[LAST_APPLIED_ANNOTATION] !== undefined ||
    !sameRecord(managedAnnotations(s.annotations), want.annotations) ||
    s.labels[MANAGED_BY_LABEL] !== MANAGED_BY
  );
}

export function revoke(status: ScimDomainStatus, reason: RevocationReason, now: string): RevokedToken[] {
  const current = status.token;
  const list = status.revokedTokens ?? [];
  if (!current) return list;
  return [{ id: current.id, fingerprint: current.fingerprint, revokedAt: now, reason }, ...list].slice(
    0,
    REVOKED_TOKENS_LIMIT,
  );
}

export function withConditions<S extends { conditions?: Condition[]; observedGeneration?: number }>(
  status: S,
  generation: number | undefined,
  now: string,
  ready: { status: 'True' | 'False'; reason: string; message: string },
  stalled?: { reason: string; message: string },
): S {
  let conditions: Condition[] = setCondition(
    status.conditions,
    {
      type: ConditionType.Ready,
      ...ready,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    },
    now,
  );
  // The ApiError report is the error path's to set and the reconciler's to clear (api-error.ts): a
  // plan that dropped it would "succeed" with a status write between two failing attempts and so
  // reset the retry backoff (a hot loop against a refusing API).
  if (!reportsApiError(conditions)) conditions = removeCondition(conditions, ConditionType.Reconciling);
  conditions = stalled
    ? setCondition(
        conditions,
        {
          type: ConditionType.Stalled,
          status: 'True',
          ...stalled,
          ...(generation !== undefined ? { observedGeneration: generation } : {}),
        },
        now,
      )
    : removeCondition(conditions, ConditionType.Stalled);
  return { ...status, conditions, ...(generation !== undefined ? { observedGeneration: generation } : {}) };
}

/** Status equality for the purpose of skipping a write (a no-op reconcile writes nothing). */
export function statusUnchanged<S extends { conditions?: Condition[] }>(a: S | undefined, b: S): boolean {
  const { conditions: ca, ...ra } = a ?? {};
  const { conditions: cb, ...rb } = b;
  return conditionsEqualIgnoringTime(ca, cb) && JSON.stringify(sortKeys(ra)) === JSON.stringify(sortKeys(rb));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, x]) => [k, sortKeys(x)]),
    );
  }
  return v;
}

export const readyMessage = (t: TokenStatus) => `token ${t.id} (${t.fingerprint}) is current`;
