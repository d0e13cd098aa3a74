// Reads for one ScimDomain reconcile: the domain and its rivals from the informer cache, the
// Secrets live from the API server (a Secret read must be current: it decides between "lost",
// "tampered" and "pending", and a stale copy would turn our own write into a false alarm).
import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import type { ScimDomain } from '../../api/types.js';
import {
  effectiveSecretName,
  type Claimant,
  type DomainState,
  type SecretView,
} from '../../domain/domain-plan.js';
import { isNotFound } from '../../kube/errors.js';

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
    controllerUid: controller?.kind === 'ScimDomain' ? controller.uid : undefined,
    labels: { ...(s.metadata?.labels ?? {}) },
    annotations: { ...(s.metadata?.annotations ?? {}) },
    data,
  };
}

export async function readSecret(
  core: CoreV1Api,
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

export async function gatherDomain(
  cache: DomainCache,
  core: CoreV1Api,
  namespace: string,
  name: string,
): Promise<DomainState | undefined> {
  const domain = cache.get(name, namespace);
  if (!domain) return undefined;
  const secretName = effectiveSecretName(domain);
  const previousName = domain.status?.secretName;
  const [secret, previousSecret] = await Promise.all([
    readSecret(core, namespace, secretName),
    previousName && previousName !== secretName ? readSecret(core, namespace, previousName) : undefined,
  ]);
  return {
    domain,
    claimants: cache.claimants(domain.spec.domain).map(toClaimant),
    ...(secret ? { secret } : {}),
    ...(previousSecret ? { previousSecret } : {}),
  };
}
