// The ScimDomain decision (SPEC §2.1, §2.3, §2.4, §2.5): from gathered state to an ordered list of
// writes. Pure: time and token generation come in through PlanDeps, nothing is read or written here.
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
  DomainReason,
  EventReason,
  GENERATION_ANNOTATION,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  REVEALED_ANNOTATION,
  REVOKED_TOKENS_LIMIT,
  ROTATION_ANNOTATION,
  ROTATION_NAME_ANNOTATION,
  SecretKeys,
  APPLIED_ROTATIONS_LIMIT,
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
  desiredStateReady,
  getCondition,
  removeCondition,
  setCondition,
  type Condition,
} from '../conditions.js';
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

export interface DomainState {
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

export interface NewToken {
  token: string;
  id: string;
  sha256: string;
  fingerprint: string;
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
function desiredForExisting(d: ScimDomain, s: SecretView): SecretContent {
  const revealed = d.spec.revealOnce === true && s.annotations[REVEALED_ANNOTATION] === 'true';
  const annotations: Record<string, string> = {};
  // Every annotation the seal covers stays as the token's writer left it: stripping one (the
  // rotation's, say) would make the Secret look forged to a replica whose status lags behind.
  for (const k of MANAGED_SECRET_ANNOTATIONS) {
    const v = s.annotations[k];
    if (v !== undefined) annotations[k] = v;
  }
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

function secretNeedsUpdate(s: SecretView, want: SecretContent): boolean {
  const managedAnnotations = Object.fromEntries(
    MANAGED_SECRET_ANNOTATIONS.filter((k) => s.annotations[k] !== undefined).map((k) => [
      k,
      s.annotations[k] as string,
    ]),
  );
  return (
    !sameRecord(s.data, want.data) ||
    s.annotations[LAST_APPLIED_ANNOTATION] !== undefined ||
    !sameRecord(managedAnnotations, want.annotations) ||
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
  // Reconciling=True ApiError is the error path's to set and the reconciler's to clear once a
  // reconcile finds nothing left to write: a plan that dropped it would "succeed" with a status write
  // between two failing attempts and so reset the retry backoff (a hot loop against a refusing API).
  if (getCondition(conditions, ConditionType.Reconciling)?.reason !== DomainReason.ApiError)
    conditions = removeCondition(conditions, ConditionType.Reconciling);
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

export function describe(
  t: NewToken | { id: string; token: string },
  issuedAt: string,
  generation: number,
): TokenStatus {
  const sha256 = tokenSha256(t.token);
  return { id: t.id, fingerprint: `sha256:${sha256.slice(0, 12)}`, sha256, issuedAt, generation };
}

const lossMessage = (cause: 'SecretLost' | 'SecretTampered', secretName: string) =>
  cause === 'SecretLost'
    ? `Secret ${secretName} was deleted`
    : `Secret ${secretName} no longer matches the recorded token (edited by hand?)`;

export const readyMessage = (t: TokenStatus) => `token ${t.id} (${t.fingerprint}) is current`;

interface ReadyInput {
  status: 'True' | 'False';
  reason: string;
  message: string;
}

/** Plans one reconcile of a ScimDomain. */
export function planDomain(state: DomainState, deps: PlanDeps): DomainPlan {
  const d = state.domain;
  const { now } = deps;
  const generation = d.metadata.generation;
  const uid = d.metadata.uid ?? '';
  const status: ScimDomainStatus = { ...(d.status ?? {}) };
  const secretName = effectiveSecretName(d);
  const actions: Action[] = [];
  const writeStatusIfChanged = (next: ScimDomainStatus) => {
    if (!statusUnchanged(d.status, next)) actions.push({ kind: 'writeStatus', status: next });
  };
  const event = (type: 'Normal' | 'Warning', reason: string, message: string) =>
    actions.push({ kind: 'event', type, reason, message });
  const previousReady = status.conditions?.find((c) => c.type === ConditionType.Ready);
  const transitionedTo = (reason: string) =>
    previousReady?.reason !== reason || previousReady.status === 'True';
  // The token leaves status and the plaintext leaves the Secret: the status write revokes it, the
  // Secret write (after it) scrubs it.
  const revokeAndScrub = (
    reason: RevocationReason,
    ready: ReadyInput,
    why: string,
    stalled?: { reason: string; message: string },
  ) => {
    const revoked = status.token;
    // An overlap in progress ends too: neither token verifies any more.
    const base = endOverlap(status, now);
    const next = withConditions(
      { ...base, revokedTokens: revoke(base, reason, now), secretName },
      generation,
      now,
      ready,
      stalled,
    );
    delete next.token;
    writeStatusIfChanged(next);
    if (revoked)
      event(
        'Normal',
        EventReason.TokenRevoked,
        `token ${revoked.id} (${revoked.fingerprint}) revoked: ${why}`,
      );
    const s = state.secret;
    if (s && s.controllerUid === uid) {
      const keep: Record<string, string> = {};
      const gen = s.annotations[GENERATION_ANNOTATION];
      if (gen !== undefined) keep[GENERATION_ANNOTATION] = gen;
      const want = secretContent(d, {}, keep);
      if (secretNeedsUpdate(s, want)) actions.push(...writeSecret(s, s.name, want));
    }
  };

  if (d.metadata.deletionTimestamp) return { actions, outcome: 'deleting' };

  // 1. Domain ownership across namespaces. A loser holds no token: when it becomes the owner it is
  //    issued a fresh one, never the one it held before (SPEC §2.3).
  const owner = domainOwner(state.claimants);
  if (owner && (owner.namespace !== d.metadata.namespace || owner.name !== d.metadata.name)) {
    const message = `domain ${d.spec.domain} is already claimed by ScimDomain ${owner.namespace}/${owner.name} (the oldest claim wins); no token is issued while it exists`;
    revokeAndScrub(
      'DomainConflict',
      { status: 'False', reason: DomainReason.DomainConflict, message },
      `domain ${d.spec.domain} is claimed by ScimDomain ${owner.namespace}/${owner.name}`,
      { reason: DomainReason.DomainConflict, message },
    );
    if (transitionedTo(DomainReason.DomainConflict)) event('Warning', EventReason.DomainConflict, message);
    return { actions, outcome: 'domain-conflict' };
  }

  // 2. Suspended: revoke at once (the status write), then scrub the plaintext.
  if (d.spec.suspend === true) {
    // Suspended is the state the user asked for: Ready=True reason Suspended, so kstatus (Flux, kpt)
    // reads it as Current while the reason says it is suspended (SPEC §2.3).
    revokeAndScrub(
      'Suspended',
      desiredStateReady(
        DomainReason.Suspended,
        'provisioning is suspended (spec.suspend); the token is revoked and removed from the Secret',
      ),
      'provisioning suspended',
    );
    return { actions, outcome: 'suspended' };
  }

  // 3. A Secret of that name that is not ours is never touched.
  const verdict = judgeSecret(state.secret, uid, status.token, status.revokedTokens ?? [], deps.sealer);
  if (verdict.kind === 'foreign') {
    const message = `Secret ${d.metadata.namespace}/${secretName} exists and is not owned by this ScimDomain; delete it or set spec.secretName to another name`;
    writeStatusIfChanged(
      withConditions(
        status,
        generation,
        now,
        { status: 'False', reason: DomainReason.SecretConflict, message },
        { reason: DomainReason.SecretConflict, message },
      ),
    );
    if (transitionedTo(DomainReason.SecretConflict)) event('Warning', EventReason.SecretConflict, message);
    return { actions, outcome: 'secret-conflict' };
  }

  // 4. Suspended and unsuspended again before this controller recorded the suspension: the token
  //    it revoked stays revoked (the verifier has refused it since the suspension), so a fresh one.
  const suspendedSince =
    verdict.kind === 'consistent' ? suspendedSinceRecorded(d, state.suspendHistory) : 'no';

  // 5. spec.secretName changed: the token moves, then the old Secret goes.
  const prev = state.previousSecret;
  if (verdict.kind === 'missing' && prev && prev.controllerUid === uid && status.token) {
    const moved = desiredForExisting(d, prev);
    actions.push({ kind: 'createSecret', name: secretName, content: moved });
    writeStatusIfChanged(
      withConditions({ ...status, secretName }, generation, now, {
        status: 'True',
        reason: DomainReason.TokenIssued,
        message: readyMessage(status.token),
      }),
    );
    actions.push({
      kind: 'deleteSecret',
      name: prev.name,
      uid: prev.uid,
      resourceVersion: prev.resourceVersion,
    });
    event(
      'Normal',
      EventReason.TokenMoved,
      `token ${status.token.id} moved from Secret ${prev.name} to ${secretName}`,
    );
    return { actions, outcome: 'moved' };
  }
  const deletePrevious = () => {
    if (prev && prev.controllerUid === uid) {
      actions.push({
        kind: 'deleteSecret',
        name: prev.name,
        uid: prev.uid,
        resourceVersion: prev.resourceVersion,
      });
    }
  };

  const readyInput = (token: TokenStatus): ReadyInput => ({
    status: 'True',
    reason: DomainReason.TokenIssued,
    message: readyMessage(token),
  });
  const ready = (token: TokenStatus, extra: Partial<ScimDomainStatus> = {}) =>
    withConditions({ ...status, ...extra, token, secretName }, generation, now, readyInput(token));

  if (verdict.kind === 'consistent' && suspendedSince === 'no') {
    const s = state.secret!;
    const want = desiredForExisting(d, s);
    if (secretNeedsUpdate(s, want)) {
      actions.push(...writeSecret(s, s.name, want));
      if (s.data[SecretKeys.token] !== undefined && want.data[SecretKeys.token] === undefined) {
        event(
          'Normal',
          EventReason.TokenRevealed,
          `token ${status.token!.id} was revealed; its plaintext is removed from Secret ${s.name} (revealOnce)`,
        );
      }
    }
    // An overlap ends at its expiresAt with a status write, exactly once: the write removes what
    // asked for it (SPEC §2.2). Until then, come back at that instant.
    const previous = status.previousToken;
    const overlapLeftMs = previous ? Date.parse(previous.expiresAt) - Date.parse(now) : NaN;
    if (previous && !(overlapLeftMs > 0)) {
      writeStatusIfChanged(
        withConditions(endOverlap(status, now), generation, now, readyInput(status.token!)),
      );
      event(
        'Normal',
        EventReason.TokenRevoked,
        `token ${previous.id} (${previous.fingerprint}) revoked: its overlap ended at ${previous.expiresAt}`,
      );
    } else {
      writeStatusIfChanged(ready(status.token!));
    }
    deletePrevious();
    return {
      actions,
      outcome: 'up-to-date',
      ...(overlapLeftMs > 0 ? { requeueAfterMs: overlapLeftMs } : {}),
    };
  }

  if (verdict.kind === 'pending') {
    // A token this operator wrote to the Secret whose status write never happened: record it now.
    const token = describe({ id: verdict.id, token: verdict.token }, now, verdict.generation);
    const reason: RevocationReason | undefined =
      verdict.cause === 'Issued' ? undefined : verdict.cause === 'Rotated' ? 'Rotated' : verdict.cause;
    let extra: Partial<ScimDomainStatus> = {};
    if (verdict.cause === 'Rotated') {
      // The rotation's own overlap, as sealed with its token.
      const rotated = rotateOut(status, now, verdict.overlapUntil);
      extra = { revokedTokens: rotated.revokedTokens, previousToken: rotated.previousToken };
    } else if (reason) {
      const ended = endOverlap(status, now);
      extra = { revokedTokens: revoke(ended, reason, now), previousToken: undefined };
    }
    if (verdict.rotationUid) {
      // The same write that switches the token records the rotation as applied (SPEC §2.6).
      extra.appliedRotations = [verdict.rotationUid, ...(status.appliedRotations ?? [])].slice(
        0,
        APPLIED_ROTATIONS_LIMIT,
      );
      extra.lastRotation = { name: verdict.rotationName ?? '', uid: verdict.rotationUid, time: now };
    }
    actions.push({ kind: 'writeStatus', status: ready(token, extra) });
    const old = status.token;
    if (old && (verdict.cause === 'SecretLost' || verdict.cause === 'SecretTampered')) {
      event(
        'Warning',
        verdict.cause,
        `${lossMessage(verdict.cause, secretName)}: token ${old.id} (${old.fingerprint}) revoked and token ${token.id} (${token.fingerprint}) issued`,
      );
    }
    event(
      'Normal',
      EventReason.TokenIssued,
      `token ${token.id} (${token.fingerprint}) issued into Secret ${secretName}`,
    );
    deletePrevious();
    return { actions, outcome: 'adopted' };
  }

  // 6. A new token: none yet, the Secret lost or tampered with, or a suspension to honour.
  const cause: IssueCause = !status.token
    ? 'Issued'
    : verdict.kind === 'missing'
      ? 'SecretLost'
      : verdict.kind === 'consistent'
        ? 'Suspended'
        : 'SecretTampered';
  const revocation: RevocationReason | undefined = cause === 'Issued' ? undefined : cause;
  const s = state.secret;
  const baseGeneration = status.token?.generation ?? (verdict.kind === 'empty' ? verdict.generation : 0);
  const fresh = deps.issue();
  const token = describe(fresh, now, baseGeneration + 1);
  const content = secretContent(d, fresh, newTokenAnnotations(deps.sealer, uid, token, cause));
  const old = status.token;
  // A token replaced for any reason but a rotation ends an overlap in progress.
  const ended = endOverlap(status, now);
  const revokedTokens = revocation ? revoke(ended, revocation, now) : ended.revokedTokens;
  // Refused Secret write: the old token is revoked all the same, and the domain has none until a
  // retry delivers one.
  let ifRefused: ScimDomainStatus | undefined;
  if (old && revocation) {
    ifRefused = withConditions({ ...ended, revokedTokens, secretName }, generation, now, {
      status: 'False',
      reason: DomainReason.ApiError,
      message: `token ${old.id} (${old.fingerprint}) is revoked; its replacement could not be written to Secret ${secretName} and will be retried`,
    });
    delete ifRefused.token;
  }
  actions.push(...writeSecret(s, secretName, content, ifRefused));
  actions.push({
    kind: 'writeStatus',
    status: ready(token, { ...(revokedTokens ? { revokedTokens } : {}), previousToken: undefined }),
  });
  if (old && revocation) {
    const why =
      revocation === 'Suspended'
        ? `ScimDomain ${d.metadata.name} was suspended (or may have been) since generation ${previousReady?.observedGeneration ?? 0}`
        : lossMessage(revocation, secretName);
    event(
      'Warning',
      revocation === 'Suspended' ? EventReason.TokenRevoked : revocation,
      `${why}: token ${old.id} (${old.fingerprint}) revoked and token ${token.id} (${token.fingerprint}) issued`,
    );
  }
  event(
    'Normal',
    EventReason.TokenIssued,
    `token ${token.id} (${token.fingerprint}) issued into Secret ${secretName}`,
  );
  deletePrevious();
  return {
    actions,
    outcome:
      cause === 'Issued'
        ? 'issued'
        : revocation === 'Suspended'
          ? 'reissued-suspended'
          : cause === 'SecretLost'
            ? 'reissued-lost'
            : 'reissued-tampered',
  };
}
