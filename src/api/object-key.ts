// The work-queue and cache key of a namespaced object, "namespace/name": one owner for its format,
// importable by every layer (api imports nothing of ours).

/** The key of the object `name` in `namespace`. */
export function namespacedKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** Inverse of `namespacedKey`; a key without a slash names a cluster-scoped object. */
export function splitObjectKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  return slash < 0
    ? { namespace: undefined, name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
