// The ScimDomain decision (SPEC §2.1, §2.3, §2.4, §2.5) as an ordered chain of named policies, the
// way cert-manager writes its trigger policies: each policy reads the same facts (gathered once by
// domainFacts) and either decides the whole plan or says "not mine" (undefined); the first that
// decides wins, and issueToken, last, always decides. The order is the rule: ownership before
// suspension before the Secret, and a token is only issued when nothing earlier explains the state.
// Pure: time and token generation come in through PlanDeps; the building blocks are in plan.ts.
import {
  ConditionType,
  DomainReason,
  EventReason,
  GENERATION_ANNOTATION,
  SecretKeys,
  APPLIED_ROTATIONS_LIMIT,
  type RevocationReason,
  type ScimDomain,
  type ScimDomainStatus,
  type TokenStatus,
} from '../../api/types.js';
import { desiredStateReady, type Condition } from '../conditions.js';
import { describeToken, tokenSha256 } from '../token.js';
import {
  desiredForExisting,
  domainOwner,
  effectiveSecretName,
  endOverlap,
  judgeSecret,
  newTokenAnnotations,
  readyMessage,
  revoke,
  rotateOut,
  secretContent,
  secretNeedsUpdate,
  statusUnchanged,
  suspendedSinceRecorded,
  withConditions,
  writeSecret,
  type Action,
  type DomainObservation,
  type DomainPlan,
  type IssueCause,
  type PlanDeps,
  type SecretVerdict,
} from './plan.js';

/** What every policy reads: the observation, and what is derived from it once. */
export interface DomainFacts {
  observed: DomainObservation;
  deps: PlanDeps;
  domain: ScimDomain;
  now: string;
  generation: number | undefined;
  uid: string;
  /** A copy of the domain's status (policies build on it, never change it). */
  status: ScimDomainStatus;
  secretName: string;
  previousReady: Condition | undefined;
  /** How the Secret relates to the token recorded in status (SPEC §2.3). */
  verdict: SecretVerdict;
  /** Suspended and unsuspended since Ready was recorded; 'no' unless the Secret is consistent. */
  suspendedSince: 'no' | 'yes' | 'unknown';
}

export function domainFacts(observed: DomainObservation, deps: PlanDeps): DomainFacts {
  const d = observed.domain;
  const status: ScimDomainStatus = { ...(d.status ?? {}) };
  const uid = d.metadata.uid ?? '';
  const verdict = judgeSecret(observed.secret, uid, status.token, status.revokedTokens ?? [], deps.sealer);
  return {
    observed,
    deps,
    domain: d,
    now: deps.now,
    generation: d.metadata.generation,
    uid,
    status,
    secretName: effectiveSecretName(d),
    previousReady: status.conditions?.find((c) => c.type === ConditionType.Ready),
    verdict,
    suspendedSince: verdict.kind === 'consistent' ? suspendedSinceRecorded(d, observed.suspendHistory) : 'no',
  };
}

/** One named step of the chain: the whole plan when the rule decides, undefined when it is not its case. */
export type DomainPolicy = (f: DomainFacts) => DomainPlan | undefined;

/** A ScimDomain being deleted is left to garbage collection: nothing is written. */
export const beingDeleted: DomainPolicy = (f) =>
  f.domain.metadata.deletionTimestamp ? { actions: [], outcome: 'deleting' } : undefined;

/**
 * A domain claimed by an older ScimDomain holds no token (the oldest claim wins); when it becomes
 * the owner it is issued a fresh one, never the one it held before (SPEC §2.3).
 */
export const claimedByOlderDomain: DomainPolicy = (f) => {
  const d = f.domain;
  const owner = domainOwner(f.observed.claimants);
  if (!owner || (owner.namespace === d.metadata.namespace && owner.name === d.metadata.name))
    return undefined;
  const message = `domain ${d.spec.domain} is already claimed by ScimDomain ${owner.namespace}/${owner.name} (the oldest claim wins); no token is issued while it exists`;
  const actions = revokeAndScrub(
    f,
    'DomainConflict',
    { status: 'False', reason: DomainReason.DomainConflict, message },
    `domain ${d.spec.domain} is claimed by ScimDomain ${owner.namespace}/${owner.name}`,
    { reason: DomainReason.DomainConflict, message },
  );
  if (transitionedTo(f, DomainReason.DomainConflict))
    actions.push(event('Warning', EventReason.DomainConflict, message));
  return { actions, outcome: 'domain-conflict' };
};

/** A suspended domain's token is revoked at once (the status write), then scrubbed from the Secret. */
export const suspended: DomainPolicy = (f) => {
  if (f.domain.spec.suspend !== true) return undefined;
  // Suspended is the state the user asked for: Ready=True reason Suspended, so kstatus (Flux, kpt)
  // reads it as Current while the reason says it is suspended (SPEC §2.3).
  const actions = revokeAndScrub(
    f,
    'Suspended',
    desiredStateReady(
      DomainReason.Suspended,
      'provisioning is suspended (spec.suspend); the token is revoked and removed from the Secret',
    ),
    'provisioning suspended',
  );
  return { actions, outcome: 'suspended' };
};

/** A Secret of the effective name that this domain does not control is never touched. */
export const secretNotOurs: DomainPolicy = (f) => {
  if (f.verdict.kind !== 'foreign') return undefined;
  const d = f.domain;
  const message = `Secret ${d.metadata.namespace}/${f.secretName} exists and is not owned by this ScimDomain; delete it or set spec.secretName to another name`;
  const actions = writeStatusIfChanged(
    f,
    withConditions(
      f.status,
      f.generation,
      f.now,
      { status: 'False', reason: DomainReason.SecretConflict, message },
      { reason: DomainReason.SecretConflict, message },
    ),
  );
  if (transitionedTo(f, DomainReason.SecretConflict))
    actions.push(event('Warning', EventReason.SecretConflict, message));
  return { actions, outcome: 'secret-conflict' };
};

/** spec.secretName changed: the token moves to the new Secret, then the old Secret goes. */
export const secretNameChanged: DomainPolicy = (f) => {
  const prev = f.observed.previousSecret;
  const token = f.status.token;
  if (f.verdict.kind !== 'missing' || !prev || prev.controllerUid !== f.uid || !token) return undefined;
  const { secretName } = f;
  const actions: Action[] = [
    { kind: 'createSecret', name: secretName, content: desiredForExisting(f.domain, prev) },
    ...writeStatusIfChanged(
      f,
      withConditions({ ...f.status, secretName }, f.generation, f.now, readyInput(token)),
    ),
    { kind: 'deleteSecret', name: prev.name, uid: prev.uid, resourceVersion: prev.resourceVersion },
    event(
      'Normal',
      EventReason.TokenMoved,
      `token ${token.id} moved from Secret ${prev.name} to ${secretName}`,
    ),
  ];
  return { actions, outcome: 'moved' };
};

/**
 * The Secret holds the recorded token: only its managed keys are brought in line (revealOnce
 * scrubs the plaintext), and an overlap ends at its expiresAt with one status write (SPEC §2.2);
 * until then, come back at that instant.
 */
export const tokenCurrent: DomainPolicy = (f) => {
  const token = f.status.token;
  if (f.verdict.kind !== 'consistent' || f.suspendedSince !== 'no' || !token) return undefined;
  const s = f.observed.secret!;
  const actions: Action[] = [];
  const want = desiredForExisting(f.domain, s);
  if (secretNeedsUpdate(s, want)) {
    actions.push(...writeSecret(s, s.name, want));
    if (s.data[SecretKeys.token] !== undefined && want.data[SecretKeys.token] === undefined) {
      actions.push(
        event(
          'Normal',
          EventReason.TokenRevealed,
          `token ${token.id} was revealed; its plaintext is removed from Secret ${s.name} (revealOnce)`,
        ),
      );
    }
  }
  const previous = f.status.previousToken;
  const overlapLeftMs = previous ? Date.parse(previous.expiresAt) - Date.parse(f.now) : NaN;
  if (previous && !(overlapLeftMs > 0)) {
    actions.push(
      ...writeStatusIfChanged(
        f,
        withConditions(endOverlap(f.status, f.now), f.generation, f.now, readyInput(token)),
      ),
      event(
        'Normal',
        EventReason.TokenRevoked,
        `token ${previous.id} (${previous.fingerprint}) revoked: its overlap ended at ${previous.expiresAt}`,
      ),
    );
  } else {
    actions.push(...writeStatusIfChanged(f, ready(f, token)));
  }
  actions.push(...deletePrevious(f));
  return {
    actions,
    outcome: 'up-to-date',
    ...(overlapLeftMs > 0 ? { requeueAfterMs: overlapLeftMs } : {}),
  };
};

/**
 * A sealed token this operator wrote to the Secret whose status write never happened is recorded
 * now, with what its seal says: never issued again (SPEC §2.3).
 */
export const unrecordedWrite: DomainPolicy = (f) => {
  const verdict = f.verdict;
  if (verdict.kind !== 'pending') return undefined;
  const { status, now, secretName } = f;
  const token = describeToken(
    { id: verdict.id, sha256: tokenSha256(verdict.token) },
    now,
    verdict.generation,
  );
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
  const actions: Action[] = [{ kind: 'writeStatus', status: ready(f, token, extra) }];
  const old = status.token;
  if (old && (verdict.cause === 'SecretLost' || verdict.cause === 'SecretTampered')) {
    actions.push(
      event(
        'Warning',
        verdict.cause,
        `${lossMessage(verdict.cause, secretName)}: token ${old.id} (${old.fingerprint}) revoked and token ${token.id} (${token.fingerprint}) issued`,
      ),
    );
  }
  actions.push(issuedEvent(token, secretName), ...deletePrevious(f));
  return { actions, outcome: 'adopted' };
};

/**
 * Nothing earlier explains the state: a new token — none yet, the Secret lost or tampered with, or
 * a suspension to honour. The old token is revoked even if the API server refuses the Secret write.
 */
export function issueToken(f: DomainFacts): DomainPlan {
  const { status, now, secretName, verdict, deps, domain: d } = f;
  const cause: IssueCause = !status.token
    ? 'Issued'
    : verdict.kind === 'missing'
      ? 'SecretLost'
      : verdict.kind === 'consistent'
        ? 'Suspended'
        : 'SecretTampered';
  const revocation: RevocationReason | undefined = cause === 'Issued' ? undefined : cause;
  const baseGeneration = status.token?.generation ?? (verdict.kind === 'empty' ? verdict.generation : 0);
  const fresh = deps.issue();
  const token = describeToken(fresh, now, baseGeneration + 1);
  const content = secretContent(d, fresh, newTokenAnnotations(deps.sealer, f.uid, token, cause));
  const old = status.token;
  // A token replaced for any reason but a rotation ends an overlap in progress.
  const ended = endOverlap(status, now);
  const revokedTokens = revocation ? revoke(ended, revocation, now) : ended.revokedTokens;
  // Refused Secret write: the old token is revoked all the same, and the domain has none until a
  // retry delivers one.
  let ifRefused: ScimDomainStatus | undefined;
  if (old && revocation) {
    ifRefused = withConditions({ ...ended, revokedTokens, secretName }, f.generation, now, {
      status: 'False',
      reason: DomainReason.ApiError,
      message: `token ${old.id} (${old.fingerprint}) is revoked; its replacement could not be written to Secret ${secretName} and will be retried`,
    });
    delete ifRefused.token;
  }
  const actions: Action[] = [
    ...writeSecret(f.observed.secret, secretName, content, ifRefused),
    {
      kind: 'writeStatus',
      status: ready(f, token, { ...(revokedTokens ? { revokedTokens } : {}), previousToken: undefined }),
    },
  ];
  if (old && revocation) {
    const why =
      revocation === 'Suspended'
        ? `ScimDomain ${d.metadata.name} was suspended (or may have been) since generation ${f.previousReady?.observedGeneration ?? 0}`
        : lossMessage(revocation, secretName);
    actions.push(
      event(
        'Warning',
        revocation === 'Suspended' ? EventReason.TokenRevoked : revocation,
        `${why}: token ${old.id} (${old.fingerprint}) revoked and token ${token.id} (${token.fingerprint}) issued`,
      ),
    );
  }
  actions.push(issuedEvent(token, secretName), ...deletePrevious(f));
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

/** The chain, in the order it is evaluated; issueToken follows when none of these decides. */
export const domainPolicies: readonly DomainPolicy[] = [
  beingDeleted,
  claimedByOlderDomain,
  suspended,
  secretNotOurs,
  secretNameChanged,
  tokenCurrent,
  unrecordedWrite,
];

/** Plans one reconcile of a ScimDomain: the first policy of the chain that decides. */
export function planDomain(observed: DomainObservation, deps: PlanDeps): DomainPlan {
  const f = domainFacts(observed, deps);
  for (const policy of domainPolicies) {
    const plan = policy(f);
    if (plan) return plan;
  }
  return issueToken(f);
}

// ---------------------------------------------------------------------------------------------------
// What the policies share.

interface ReadyInput {
  status: 'True' | 'False';
  reason: string;
  message: string;
}

const readyInput = (token: TokenStatus): ReadyInput => ({
  status: 'True',
  reason: DomainReason.TokenIssued,
  message: readyMessage(token),
});

/** The status that records `token` as current (Ready=True TokenIssued). */
const ready = (f: DomainFacts, token: TokenStatus, extra: Partial<ScimDomainStatus> = {}) =>
  withConditions(
    { ...f.status, ...extra, token, secretName: f.secretName },
    f.generation,
    f.now,
    readyInput(token),
  );

const event = (type: 'Normal' | 'Warning', reason: string, message: string): Action => ({
  kind: 'event',
  type,
  reason,
  message,
});

const issuedEvent = (token: TokenStatus, secretName: string): Action =>
  event(
    'Normal',
    EventReason.TokenIssued,
    `token ${token.id} (${token.fingerprint}) issued into Secret ${secretName}`,
  );

const lossMessage = (cause: 'SecretLost' | 'SecretTampered', secretName: string) =>
  cause === 'SecretLost'
    ? `Secret ${secretName} was deleted`
    : `Secret ${secretName} no longer matches the recorded token (edited by hand?)`;

/** A status write, unless it would write what is there already (a no-op reconcile writes nothing). */
function writeStatusIfChanged(f: DomainFacts, next: ScimDomainStatus): Action[] {
  return statusUnchanged(f.domain.status, next) ? [] : [{ kind: 'writeStatus', status: next }];
}

/** Whether Ready moves to `reason` now (it was not already False for it): the Event is sent once. */
function transitionedTo(f: DomainFacts, reason: string): boolean {
  return f.previousReady?.reason !== reason || f.previousReady.status === 'True';
}

/** The Secret named in status before spec.secretName changed goes, if this domain controls it. */
function deletePrevious(f: DomainFacts): Action[] {
  const prev = f.observed.previousSecret;
  if (!prev || prev.controllerUid !== f.uid) return [];
  return [{ kind: 'deleteSecret', name: prev.name, uid: prev.uid, resourceVersion: prev.resourceVersion }];
}

/**
 * The token leaves status and the plaintext leaves the Secret: the status write revokes it, the
 * Secret write (after it) scrubs it.
 */
function revokeAndScrub(
  f: DomainFacts,
  reason: RevocationReason,
  readyCondition: ReadyInput,
  why: string,
  stalled?: { reason: string; message: string },
): Action[] {
  const { status, now } = f;
  const actions: Action[] = [];
  const revoked = status.token;
  // An overlap in progress ends too: neither token verifies any more.
  const base = endOverlap(status, now);
  const next = withConditions(
    { ...base, revokedTokens: revoke(base, reason, now), secretName: f.secretName },
    f.generation,
    now,
    readyCondition,
    stalled,
  );
  delete next.token;
  actions.push(...writeStatusIfChanged(f, next));
  if (revoked)
    actions.push(
      event(
        'Normal',
        EventReason.TokenRevoked,
        `token ${revoked.id} (${revoked.fingerprint}) revoked: ${why}`,
      ),
    );
  const s = f.observed.secret;
  if (s && s.controllerUid === f.uid) {
    const keep: Record<string, string> = {};
    const gen = s.annotations[GENERATION_ANNOTATION];
    if (gen !== undefined) keep[GENERATION_ANNOTATION] = gen;
    const want = secretContent(f.domain, {}, keep);
    if (secretNeedsUpdate(s, want)) actions.push(...writeSecret(s, s.name, want));
  }
  return actions;
}
