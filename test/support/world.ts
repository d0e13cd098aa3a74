// A tiny in-memory world for the pure ScimDomain plan: one domain and the Secrets of its namespace.
// `apply` carries out a plan's writes the way the API server would (resourceVersion and uid
// preconditions included), so a test can check where a plan leads and that planning again on the
// result writes nothing; the edits stand for what users and other tools do between reconciles. It
// models no Kubernetes API beyond that: tests of the controller itself run against the real API
// server. Pure; nothing in the operator imports it.

import {
  SECRET_TYPE,
  type ScimDomain,
  type ScimDomainSpec,
  type ScimDomainStatus,
} from '../../src/api/types.js';
import {
  effectiveSecretName,
  type Action,
  type Claimant,
  type DomainObservation,
  type SecretView,
} from '../../src/rules/scimdomain/plan.js';

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
