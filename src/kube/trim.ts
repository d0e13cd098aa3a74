// What the informer caches keep of an object: everything a reader uses, nothing it does not
// (controller-runtime's default cache transform does the same). With 10,000 domains and their
// Secrets, `metadata.managedFields` alone is about half of what the caches would hold.
//
// The transforms rebuild the objects they change instead of `delete`-ing properties: a deleted
// property turns a V8 object into a slower, larger dictionary-mode object.
import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';

/** Written by `kubectl apply` (client-side): a copy of the whole applied object, as JSON. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Drops `metadata.managedFields`: server-side-apply bookkeeping, never read by this operator and
 * never written back (every write builds its body afresh). Everything else is kept — for our
 * Secrets that matters: a replace carries over their labels and annotations, and the reconcile
 * compares all of their data. Modifies and returns `obj`.
 */
export function withoutManagedFields<T extends KubernetesObject>(obj: T): T {
  const metadata = obj.metadata;
  if (metadata?.managedFields === undefined) return obj;
  const { managedFields: _dropped, ...rest } = metadata;
  obj.metadata = rest;
  return obj;
}

/**
 * For objects whose metadata this operator reads only for identity, versions, generation and
 * deletion (ScimDomains, ScimTokenRotations — their status writes build their own metadata): drops
 * `managedFields` and the last-applied-configuration annotation, which repeats the object's spec.
 * Modifies and returns `obj`.
 */
export function withoutApplyBookkeeping<T extends KubernetesObject>(obj: T): T {
  const metadata = obj.metadata;
  const annotations = metadata?.annotations;
  const lastApplied = annotations !== undefined && LAST_APPLIED_ANNOTATION in annotations;
  if (metadata === undefined || (metadata.managedFields === undefined && !lastApplied)) return obj;
  const { managedFields: _dropped, annotations: _annotations, ...rest } = metadata;
  const kept: V1ObjectMeta = rest;
  if (annotations !== undefined) {
    const { [LAST_APPLIED_ANNOTATION]: _lastApplied, ...others } = annotations;
    // An object that had only that annotation keeps an empty map, not none: readers see the same
    // shape as before.
    kept.annotations = others;
  }
  obj.metadata = kept;
  return obj;
}
