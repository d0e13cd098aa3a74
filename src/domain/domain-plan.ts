// The ScimDomain decision (SPEC §2.1, §2.3, §2.4, §2.5): from gathered state to an ordered list of
// writes. Pure: time and token generation come in through PlanDeps, nothing is read or written here.
//
// The Secret carries the token generation it holds (annotation). New tokens are only ever written
// over a Secret whose generation equals the one recorded in status, as generation + 1, and status is
// then switched in a write that carries the domain's resourceVersion. So a Secret one generation
// ahead of status is a write whose status write did not happen (crash, conflict): it is adopted,
// never re-issued; anything else that disagrees with status is tampering or loss.
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
} from '../api/types.js';
import {
  conditionsEqualIgnoringTime,
  desiredStateReady,
  getCondition,
  removeCondition,
  setCondition,
  type Condition,
} from './conditions.js';
import { checkTokenFormat, tokenFingerprint, tokenSha256 } from './token.js';

/** Why a token was (re)written; kept on the Secret so that adopting an unrecorded write knows. */
export const CAUSE_ANNOTATION = 'scim.tokens.dev/issue-cause';
export type IssueCause = 'Issued' | 'SecretLost' | 'SecretTampered' | 'Rotated';

/** A Secret as the planner sees it: data already decoded. */
export interface SecretView {
  name: string;
  uid: string;
  resourceVersion: string;
  type?: string;
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
}

export interface SecretContent {
  data: Record<string, string>;
  annotations: Record<string, string>;
  labels: Record<string, string>;
}

export type Action =
  | { kind: 'createSecret'; name: string; content: SecretContent }
  | { kind: 'replaceSecret'; name: string; resourceVersion: string; content: SecretContent }
  | { kind: 'deleteSecret'; name: string; uid: string; resourceVersion: string }
  | { kind: 'writeStatus'; status: ScimDomainStatus }
  | { kind: 'event'; type: 'Normal' | 'Warning'; reason: string; message: string };

export interface DomainPlan {
  actions: Action[];
  /** What the plan decided, for logs and tests (never token material). */
  outcome: string;
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
const CAUSES: readonly IssueCause[] = ['Issued', 'SecretLost', 'SecretTampered', 'Rotated'];

export function judgeSecret(
  secret: SecretView | undefined,
  domainUid: string,
  recorded?: TokenStatus,
  revoked: readonly RevokedToken[] = [],
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
    const annotated = secret.annotations[CAUSE_ANNOTATION] as IssueCause | undefined;
    const cause = annotated && CAUSES.includes(annotated) ? annotated : 'Issued';
    const rotationUid = secret.annotations[ROTATION_ANNOTATION];
    const rotationName = secret.annotations[ROTATION_NAME_ANNOTATION];
    return {
      kind: 'pending',
      token: own,
      id: secret.data[SecretKeys.id] ?? '',
      generation: Math.max(generation, 1),
      cause,
      ...(rotationUid ? { rotationUid } : {}),
      ...(rotationName ? { rotationName } : {}),
    };
  }
  if (!recorded && token === undefined) return { kind: 'empty', generation };
  return { kind: 'tampered' };
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
  for (const k of [GENERATION_ANNOTATION, CAUSE_ANNOTATION, REVEALED_ANNOTATION]) {
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
    [
      GENERATION_ANNOTATION,
      CAUSE_ANNOTATION,
      REVEALED_ANNOTATION,
      ROTATION_ANNOTATION,
      ROTATION_NAME_ANNOTATION,
    ]
      .filter((k) => s.annotations[k] !== undefined)
      .map((k) => [k, s.annotations[k] as string]),
  );
  return (
    !sameRecord(s.data, want.data) ||
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

  if (d.metadata.deletionTimestamp) return { actions, outcome: 'deleting' };

  // 1. Domain ownership across namespaces.
  const owner = domainOwner(state.claimants);
  if (owner && (owner.namespace !== d.metadata.namespace || owner.name !== d.metadata.name)) {
    const message = `domain ${d.spec.domain} is already claimed by ScimDomain ${owner.namespace}/${owner.name} (the oldest claim wins); no token is issued while it exists`;
    writeStatusIfChanged(
      withConditions(
        status,
        generation,
        now,
        { status: 'False', reason: DomainReason.DomainConflict, message },
        { reason: DomainReason.DomainConflict, message },
      ),
    );
    if (transitionedTo(DomainReason.DomainConflict)) event('Warning', EventReason.DomainConflict, message);
    return { actions, outcome: 'domain-conflict' };
  }

  // 2. Suspended: revoke at once (the status write), then scrub the plaintext.
  if (d.spec.suspend === true) {
    const revoked = status.token;
    const next = withConditions(
      { ...status, token: undefined, revokedTokens: revoke(status, 'Suspended', now), secretName },
      generation,
      now,
      desiredStateReady(
        DomainReason.Suspended,
        'provisioning is suspended (spec.suspend); the token is revoked and removed from the Secret',
      ),
    );
    delete next.token;
    writeStatusIfChanged(next);
    if (revoked)
      event(
        'Normal',
        EventReason.TokenRevoked,
        `token ${revoked.id} (${revoked.fingerprint}) revoked: provisioning suspended`,
      );
    const s = state.secret;
    if (s && s.controllerUid === uid) {
      const keep: Record<string, string> = {};
      const gen = s.annotations[GENERATION_ANNOTATION];
      if (gen !== undefined) keep[GENERATION_ANNOTATION] = gen;
      const want = secretContent(d, {}, keep);
      if (secretNeedsUpdate(s, want)) {
        actions.push({
          kind: 'replaceSecret',
          name: s.name,
          resourceVersion: s.resourceVersion,
          content: want,
        });
      }
    }
    return { actions, outcome: 'suspended' };
  }

  // 3. A Secret of that name that is not ours is never touched.
  const verdict = judgeSecret(state.secret, uid, status.token, status.revokedTokens);
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

  // 4. spec.secretName changed: the token moves, then the old Secret goes.
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

  const ready = (token: TokenStatus, extra: Partial<ScimDomainStatus> = {}) =>
    withConditions({ ...status, ...extra, token, secretName }, generation, now, {
      status: 'True',
      reason: DomainReason.TokenIssued,
      message: readyMessage(token),
    });

  switch (verdict.kind) {
    case 'consistent': {
      const s = state.secret!;
      const want = desiredForExisting(d, s);
      if (secretNeedsUpdate(s, want)) {
        actions.push({
          kind: 'replaceSecret',
          name: s.name,
          resourceVersion: s.resourceVersion,
          content: want,
        });
        if (s.data[SecretKeys.token] !== undefined && want.data[SecretKeys.token] === undefined) {
          event(
            'Normal',
            EventReason.TokenRevealed,
            `token ${status.token!.id} was revealed; its plaintext is removed from Secret ${s.name} (revealOnce)`,
          );
        }
      }
      writeStatusIfChanged(ready(status.token!));
      deletePrevious();
      return { actions, outcome: 'up-to-date' };
    }
    case 'pending': {
      // A token written to the Secret whose status write never happened: record it now.
      const token = describe({ id: verdict.id, token: verdict.token }, now, verdict.generation);
      const reason: RevocationReason | undefined =
        verdict.cause === 'Issued' ? undefined : verdict.cause === 'Rotated' ? 'Rotated' : verdict.cause;
      const extra: Partial<ScimDomainStatus> = reason ? { revokedTokens: revoke(status, reason, now) } : {};
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
    case 'missing':
    case 'empty':
    case 'tampered': {
      const cause: IssueCause = !status.token
        ? 'Issued'
        : verdict.kind === 'missing'
          ? 'SecretLost'
          : 'SecretTampered';
      const baseGeneration = status.token?.generation ?? (verdict.kind === 'empty' ? verdict.generation : 0);
      const fresh = deps.issue();
      const token = describe(fresh, now, baseGeneration + 1);
      const content = secretContent(d, fresh, {
        [GENERATION_ANNOTATION]: String(token.generation),
        [CAUSE_ANNOTATION]: cause,
      });
      const s = state.secret;
      actions.push(
        s
          ? { kind: 'replaceSecret', name: s.name, resourceVersion: s.resourceVersion, content }
          : { kind: 'createSecret', name: secretName, content },
      );
      const old = status.token;
      const revokedTokens = cause === 'Issued' ? status.revokedTokens : revoke(status, cause, now);
      actions.push({ kind: 'writeStatus', status: ready(token, revokedTokens ? { revokedTokens } : {}) });
      if (old && cause !== 'Issued') {
        event(
          'Warning',
          cause,
          `${lossMessage(cause, secretName)}: token ${old.id} (${old.fingerprint}) revoked and token ${token.id} (${token.fingerprint}) issued`,
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
          cause === 'Issued' ? 'issued' : cause === 'SecretLost' ? 'reissued-lost' : 'reissued-tampered',
      };
    }
  }
}
