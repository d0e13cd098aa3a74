// A tiny in-memory world for the pure ScimDomain plan: one domain and the Secrets of its namespace.
// `apply` carries out a plan's writes the way the API server would (resourceVersion and uid
// preconditions included), so a test can check where a plan leads and that planning again on the
// result writes nothing; the edits stand for what users and other tools do between reconciles. It
// models no Kubernetes API beyond that: tests of the controller itself run against the real API
// server. Pure; nothing in the operator imports it.

import {
  GENERATION_ANNOTATION,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  SECRET_TYPE,
  type ScimDomain,
  type ScimDomainSpec,
  type ScimDomainStatus,
  type ScimTokenRotation,
  type TokenStatus,
} from '../../src/api/types.js';
import {
  CAUSE_ANNOTATION,
  effectiveSecretName,
  newTokenAnnotations,
  type Action,
  type Claimant,
  type DomainObservation,
  type IssueCause,
  type NewToken,
  type PlanDeps,
  type SecretView,
} from '../../src/rules/scimdomain/plan.js';
import { planDomain } from '../../src/rules/scimdomain/policies.js';
import { readyCondition, scimDomain } from './builders.js';
import { createTokenSealer } from '../../src/rules/token-seal.js';
import {
  generateToken,
  generateTokenId,
  tokenFingerprint,
  tokenSha256,
  type RandomBytes,
} from '../../src/rules/token.js';

export interface World {
  domain: ScimDomain;
  secrets: Record<string, SecretView>;
  /** Every ScimDomain claiming the domain's spec.domain; default: the domain alone. */
  claimants?: Claimant[];
}

export function claimantOf(d: ScimDomain): Claimant {
  return {
    namespace: d.metadata.namespace,
    name: d.metadata.name,
    creationTimestamp: (d.metadata.creationTimestamp ?? new Date(0)).toISOString(),
  };
}

/** What the controller's gather step would read from this world. */
export function observe(w: World): DomainObservation {
  const name = effectiveSecretName(w.domain);
  const observed: DomainObservation = {
    domain: w.domain,
    claimants: w.claimants ?? [claimantOf(w.domain)],
  };
  const secret = w.secrets[name];
  if (secret) observed.secret = secret;
  const recorded = w.domain.status?.secretName;
  const previous = recorded && recorded !== name ? w.secrets[recorded] : undefined;
  if (previous) observed.previousSecret = previous;
  return observed;
}

/** The world after the API server carried out `actions` in order; a failed precondition throws. */
export function apply(w: World, actions: readonly Action[]): World {
  let domain = w.domain;
  const secrets = { ...w.secrets };
  for (const a of actions) {
    switch (a.kind) {
      case 'createSecret': {
        if (secrets[a.name]) throw new Error(`AlreadyExists: Secret ${a.name}`);
        secrets[a.name] = {
          name: a.name,
          uid: `uid-secret-${a.name}`,
          resourceVersion: '1',
          type: SECRET_TYPE,
          controllerUid: domain.metadata.uid,
          labels: { ...a.content.labels },
          annotations: { ...a.content.annotations },
          data: { ...a.content.data },
        };
        break;
      }
      case 'replaceSecret': {
        const cur = secrets[a.name];
        if (!cur || cur.resourceVersion !== a.resourceVersion) throw new Error(`Conflict: Secret ${a.name}`);
        secrets[a.name] = {
          ...cur,
          resourceVersion: String(Number(cur.resourceVersion) + 1),
          labels: { ...a.content.labels },
          annotations: { ...a.content.annotations },
          data: { ...a.content.data },
        };
        break;
      }
      case 'deleteSecret': {
        const cur = secrets[a.name];
        if (!cur || cur.uid !== a.uid || cur.resourceVersion !== a.resourceVersion) {
          throw new Error(`Precondition failed: Secret ${a.name}`);
        }
        delete secrets[a.name];
        break;
      }
      case 'writeStatus':
        domain = { ...domain, status: a.status };
        break;
      case 'event':
        break;
    }
  }
  return { ...w, domain, secrets };
}

/** A user edit of the spec: the API server bumps metadata.generation. */
export function editSpec(w: World, patch: Partial<ScimDomainSpec>): World {
  const d = w.domain;
  return {
    ...w,
    domain: {
      ...d,
      metadata: { ...d.metadata, generation: (d.metadata.generation ?? 1) + 1 },
      spec: { ...d.spec, ...patch },
    },
  };
}

/** A write to the status subresource (the operator's, or someone's with that right). */
export function editStatus(w: World, f: (s: ScimDomainStatus) => ScimDomainStatus): World {
  return { ...w, domain: { ...w.domain, status: f(w.domain.status ?? {}) } };
}

/** Someone else's write to a Secret (default: the domain's): the API server bumps resourceVersion. */
export function editSecret(
  w: World,
  f: (s: SecretView) => SecretView,
  name = effectiveSecretName(w.domain),
): World {
  const cur = w.secrets[name];
  if (!cur) throw new Error('no Secret to edit');
  const next = f(cur);
  return {
    ...w,
    secrets: { ...w.secrets, [name]: { ...next, resourceVersion: String(Number(cur.resourceVersion) + 1) } },
  };
}

/** A Secret (default: the domain's) deleted. */
export function withoutSecret(w: World, name = effectiveSecretName(w.domain)): World {
  const secrets = { ...w.secrets };
  delete secrets[name];
  return { ...w, secrets };
}

// ---------------------------------------------------------------------------------------------------
// The acme world's fixtures: one domain, tokens that are the same on every run, and the sealer.

export const NOW = '2025-06-01T12:00:00Z';
export const CREATED = '2025-04-01T00:00:00Z';
export const UID = 'uid-scimdomain-acme';
export const NS = 'team-a';
export const NAME = 'acme';
export const DOMAIN = 'acme.example.com';
export const SECRET = 'acme-scim-token';
export const BASE_URL = 'https://app.example.com/scim/v2';

// A RandomBytes that is a pure function of its seed. Every byte is below 248, so the token generator
// never rejects one, and different seeds give different tokens.
export function seededBytes(seed: number): RandomBytes {
  let i = 0;
  return (n) => Uint8Array.from({ length: n }, () => (seed * 37 + 11 * i++) % 248);
}

/** An issued token and the fingerprint tests expect status to show for it. */
export type TestToken = NewToken & { fingerprint: string };

/** A real token (format, checksum, hashes) that is the same on every run for a given seed. */
export function makeToken(seed: number): TestToken {
  const token = generateToken(seededBytes(seed));
  return {
    token,
    id: generateTokenId(seededBytes(seed + 500)),
    sha256: tokenSha256(token),
    fingerprint: tokenFingerprint(token),
  };
}

/** The token `issuedWorld` holds; `fakeDeps()` issues T2, T3, ... */
export const T1 = makeToken(1);
export const T2 = makeToken(2);
/** Tokens no PlanDeps in these tests ever issues: what crashed writes and hand edits put in a Secret. */
export const T8 = makeToken(8);
export const T9 = makeToken(9);

/** The operator's sealer in these tests; OTHER_SEALER stands for a key nobody but an attacker has. */
export const SEALER = createTokenSealer(Buffer.alloc(32, 7));
export const OTHER_SEALER = createTokenSealer(Buffer.alloc(32, 8));

export type FakeDeps = PlanDeps & { issued: TestToken[] };

export function fakeDeps(firstSeed = 2): FakeDeps {
  let seed = firstSeed;
  const issued: TestToken[] = [];
  return {
    now: NOW,
    issued,
    sealer: SEALER,
    issue: () => {
      const t = makeToken(seed++);
      issued.push(t);
      return t;
    },
  };
}

/** The world's domain, team-a/acme (test/support/builders.ts's `scimDomain` with the world's names). */
export function acmeDomain(
  spec: Partial<ScimDomainSpec> = {},
  meta: Partial<ScimDomain['metadata']> = {},
  status?: ScimDomainStatus,
): ScimDomain {
  return scimDomain({
    metadata: { name: NAME, namespace: NS, uid: UID, creationTimestamp: new Date(CREATED), ...meta },
    spec: { domain: DOMAIN, ...spec },
    ...(status ? { status } : {}),
  });
}

export function tokenStatus(t: TestToken, generation: number, issuedAt = CREATED): TokenStatus {
  return { id: t.id, fingerprint: t.fingerprint, sha256: t.sha256, issuedAt, generation };
}

export function tokenData(t: NewToken, extra: Record<string, string> = {}): Record<string, string> {
  return { token: t.token, 'token-sha256': t.sha256, 'token-id': t.id, domain: DOMAIN, ...extra };
}

export function generationAnnotations(generation: number, cause?: IssueCause): Record<string, string> {
  return {
    [GENERATION_ANNOTATION]: String(generation),
    ...(cause ? { [CAUSE_ANNOTATION]: cause } : {}),
  };
}

/** The annotations the operator writes with a new token: generation, cause, rotation and their seal. */
export function sealedAnnotations(
  t: NewToken,
  generation: number,
  cause: IssueCause = 'Issued',
  rotation?: { key: string; name: string; overlapUntil?: string },
  sealer = SEALER,
  domainUid = UID,
): Record<string, string> {
  return newTokenAnnotations(sealer, domainUid, { ...t, generation }, cause, rotation);
}

/** A Secret controlled by the test domain. */
export function ownedSecret(
  data: Record<string, string>,
  annotations: Record<string, string>,
  over: Partial<SecretView> = {},
): SecretView {
  return {
    name: SECRET,
    uid: 'uid-secret-acme',
    resourceVersion: '7',
    type: SECRET_TYPE,
    controllerUid: UID,
    labels: { [MANAGED_BY_LABEL]: MANAGED_BY },
    annotations,
    data,
    ...over,
  };
}

// ---------------------------------------------------------------------------------------------------

/** A new domain after its first reconcile: Secret and status hold T1 at generation 1. */
export function issuedWorld(spec: Partial<ScimDomainSpec> = {}): World {
  const start: World = { domain: acmeDomain(spec), secrets: {} };
  return apply(start, planDomain(observe(start), fakeDeps(1)).actions);
}

// ---------------------------------------------------------------------------------------------------
// The rotation world's fixtures: a Ready domain holding token tok-old, and rotations of it created
// `createdS` seconds after T0.

/** The operator's sealer in the rotation tests. */
export const rotationSealer = createTokenSealer(Buffer.alloc(32, 1));

export const T0 = new Date('2026-11-29T12:00:00Z');
export const at = (s: number) => new Date(T0.getTime() + s * 1000);
/** A SHA-256 digest of one hex character repeated. */
export const sha = (c: string) => c.repeat(64);

/** A Ready domain, ns/acme, holding token tok-old of generation 3 (builders.ts's `scimDomain`). */
export function readyDomain(
  over: Partial<ScimDomainStatus> = {},
  spec: Partial<ScimDomainSpec> = {},
): ScimDomain {
  return scimDomain({
    metadata: { name: 'acme', uid: 'd-uid', resourceVersion: '10' },
    spec: { domain: 'acme.example', ...spec },
    status: {
      conditions: [readyCondition({ lastTransitionTime: T0.toISOString() })],
      token: {
        id: 'tok-old',
        fingerprint: `sha256:${'a'.repeat(12)}`,
        sha256: sha('a'),
        issuedAt: T0.toISOString(),
        generation: 3,
      },
      ...over,
    },
  });
}

export function tokenRotation(
  name: string,
  createdS: number,
  spec: Partial<ScimTokenRotation['spec']> = {},
  status?: ScimTokenRotation['status'],
): ScimTokenRotation {
  return {
    apiVersion: 'scim.tokens.dev/v1alpha1',
    kind: 'ScimTokenRotation',
    metadata: {
      name,
      namespace: 'ns',
      uid: `${name}-uid`,
      generation: 1,
      resourceVersion: '5',
      creationTimestamp: at(createdS),
    },
    spec: { domainRef: { name: 'acme' }, ...spec },
    ...(status ? { status } : {}),
  };
}

export const rotationSecret: SecretView = {
  name: 'acme-scim-token',
  uid: 's',
  resourceVersion: '7',
  controllerUid: 'd-uid',
  labels: {},
  annotations: {},
  data: {},
};
let n = 0;
/** Issues `sct_000…1`, `sct_000…2`, … with ids tok-new1, tok-new2, … (not valid tokens: never checked here). */
export const fakeIssue = (): NewToken => {
  n++;
  const token = `sct_${String(n).padStart(46, '0')}`;
  return { token, id: `tok-new${n}`, sha256: tokenSha256(token) };
};
