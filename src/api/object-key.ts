// The work-queue and cache key of an object, "namespace/name" ("name" for a cluster-scoped one): one
// owner for its format, importable by every layer (api imports nothing of ours).

/** The key of the object `name` in `namespace`. */
export function namespacedKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** The key of an object: "namespace/name", or "name" for a cluster-scoped object. */
export function objectKey(obj: { metadata?: { name?: string; namespace?: string } }): string {
  const name = obj.metadata?.name ?? '';
  const namespace = obj.metadata?.namespace;
  return namespace ? namespacedKey(namespace, name) : name;
}

/** Inverse of `namespacedKey` and `objectKey`; a key without a slash names a cluster-scoped object. */
export function splitObjectKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  return slash < 0
    ? { namespace: undefined, name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
