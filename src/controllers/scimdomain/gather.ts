// Reads for one ScimDomain reconcile: the domain, its rivals and its Secrets from the informer
// caches. The Secret cache holds only Secrets labelled as ours and can lag behind the API server, so
// it is trusted only as far as the writes are guarded: every Secret write carries a precondition
// (create fails if the name exists, replace carries the resourceVersion), our own writes are waited
// for (expectations), and after a refused create the next attempt reads the Secrets live.
import type { V1Secret } from '@kubernetes/client-node';
import type { ScimDomain } from '../../api/types.js';
import {
  effectiveSecretName,
  type Claimant,
  type DomainObservation,
  type SecretView,
} from '../../rules/scimdomain/plan.js';
import { isNotFound } from '../../kube/errors.js';
import type { CoreApi } from '../../kube/apis.js';

export interface DomainCache {
  get(name: string, namespace?: string): ScimDomain | undefined;
  /** Every cached ScimDomain claiming this spec.domain. */
  claimants(domain: string): ScimDomain[];
}

export function toSecretView(s: V1Secret): SecretView {
  const controller = s.metadata?.ownerReferences?.find((o) => o.controller === true);
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.data ?? {})) data[k] = Buffer.from(v, 'base64').toString('utf8');
  return {
    name: s.metadata?.name ?? '',
    uid: s.metadata?.uid ?? '',
    resourceVersion: s.metadata?.resourceVersion ?? '',
    type: s.type,
    ...(s.immutable === true ? { immutable: true } : {}),
    controllerUid: controller?.kind === 'ScimDomain' ? controller.uid : undefined,
    labels: { ...(s.metadata?.labels ?? {}) },
    annotations: { ...(s.metadata?.annotations ?? {}) },
    data,
  };
}

export async function readSecret(
  core: CoreApi,
  namespace: string,
  name: string,
): Promise<SecretView | undefined> {
  try {
    return toSecretView(await core.readNamespacedSecret({ namespace, name }));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export function toClaimant(d: ScimDomain): Claimant {
  const ts = d.metadata.creationTimestamp;
  return {
    namespace: d.metadata.namespace,
    name: d.metadata.name,
    creationTimestamp: ts instanceof Date ? ts.toISOString() : String(ts ?? ''),
  };
}

export interface SecretCache {
  get(name: string, namespace?: string): V1Secret | undefined;
}

/** The Secret names a domain's reconcile reads: the effective one and, while moving, the previous one. */
export function secretNames(domain: ScimDomain): string[] {
  const current = effectiveSecretName(domain);
  const previous = domain.status?.secretName;
  return previous && previous !== current ? [current, previous] : [current];
}

export async function gatherDomain(
  cache: DomainCache,
  core: CoreApi,
  namespace: string,
  name: string,
  secrets?: SecretCache,
): Promise<DomainObservation | undefined> {
  const domain = cache.get(name, namespace);
  if (!domain) return undefined;
  const read = async (secretName: string) => {
    if (!secrets) return readSecret(core, namespace, secretName);
    const cached = secrets.get(secretName, namespace);
    return cached ? toSecretView(cached) : undefined;
  };
  const [currentName, previousName] = secretNames(domain);
  const [secret, previousSecret] = await Promise.all([
    read(currentName!),
    previousName ? read(previousName) : undefined,
  ]);
  return {
    domain,
    claimants: cache.claimants(domain.spec.domain).map(toClaimant),
    ...(secret ? { secret } : {}),
    ...(previousSecret ? { previousSecret } : {}),
  };
}
