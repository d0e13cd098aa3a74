// The few API calls the operator makes, with the names and parameter objects of client-node's
// generated APIs (CoreV1Api, CustomObjectsApi, CoordinationV1Api), so a reader who knows those
// knows these, and tests can hand in either. Typed with client-node's interfaces (type imports
// only: nothing of client-node is loaded); at runtime the objects are the API server's JSON, so
// timestamps are strings, not Dates.
import type { CoreV1Event, V1DeleteOptions, V1Lease, V1Secret, V1SecretList } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';

interface Page {
  labelSelector?: string;
  limit?: number;
  _continue?: string;
}

const pageQuery = (p: Page) => ({ labelSelector: p.labelSelector, limit: p.limit, continue: p._continue });

const ns = (namespace: string) => `/api/v1/namespaces/${encodeURIComponent(namespace)}`;
const named = (name: string) => `/${encodeURIComponent(name)}`;

export interface SecretsApi {
  readNamespacedSecret(p: { namespace: string; name: string }): Promise<V1Secret>;
  listNamespacedSecret(p: Page & { namespace: string }): Promise<V1SecretList>;
  listSecretForAllNamespaces(p: Page): Promise<V1SecretList>;
  createNamespacedSecret(p: { namespace: string; body: V1Secret }): Promise<V1Secret>;
  replaceNamespacedSecret(p: { namespace: string; name: string; body: V1Secret }): Promise<V1Secret>;
  deleteNamespacedSecret(p: { namespace: string; name: string; body?: V1DeleteOptions }): Promise<unknown>;
}

export interface EventsApi {
  createNamespacedEvent(p: { namespace: string; body: CoreV1Event }): Promise<CoreV1Event>;
}

/** The core/v1 calls: Secrets and Events. */
export type CoreApi = SecretsApi & EventsApi;

interface CustomResource {
  group: string;
  version: string;
  plural: string;
}

export interface CustomObjectsApi {
  listNamespacedCustomObject(p: CustomResource & Page & { namespace: string }): Promise<unknown>;
  listClusterCustomObject(p: CustomResource & Page): Promise<unknown>;
  replaceNamespacedCustomObjectStatus(
    p: CustomResource & { namespace: string; name: string; body: object },
  ): Promise<unknown>;
  deleteNamespacedCustomObject(
    p: CustomResource & { namespace: string; name: string; body?: V1DeleteOptions },
  ): Promise<unknown>;
}

export interface LeasesApi {
  readNamespacedLease(p: { namespace: string; name: string }): Promise<V1Lease>;
  createNamespacedLease(p: { namespace: string; body: V1Lease }): Promise<V1Lease>;
  replaceNamespacedLease(p: { namespace: string; name: string; body: V1Lease }): Promise<V1Lease>;
}

export function coreApi(client: KubeClient): CoreApi {
  const secrets = (namespace: string) => `${ns(namespace)}/secrets`;
  return {
    readNamespacedSecret: ({ namespace, name }) => client.request('GET', secrets(namespace) + named(name)),
    listNamespacedSecret: (p) => client.request('GET', secrets(p.namespace), { query: pageQuery(p) }),
    listSecretForAllNamespaces: (p) => client.request('GET', '/api/v1/secrets', { query: pageQuery(p) }),
    createNamespacedSecret: ({ namespace, body }) => client.request('POST', secrets(namespace), { body }),
    replaceNamespacedSecret: ({ namespace, name, body }) =>
      client.request('PUT', secrets(namespace) + named(name), { body }),
    deleteNamespacedSecret: ({ namespace, name, body }) =>
      client.request('DELETE', secrets(namespace) + named(name), body ? { body } : {}),
    createNamespacedEvent: ({ namespace, body }) =>
      client.request('POST', `${ns(namespace)}/events`, { body }),
  };
}

export function customObjectsApi(client: KubeClient): CustomObjectsApi {
  const base = (r: CustomResource) => `/apis/${r.group}/${r.version}`;
  const inNamespace = (r: CustomResource & { namespace: string }) =>
    `${base(r)}/namespaces/${encodeURIComponent(r.namespace)}/${r.plural}`;
  return {
    listNamespacedCustomObject: (p) => client.request('GET', inNamespace(p), { query: pageQuery(p) }),
    listClusterCustomObject: (p) => client.request('GET', `${base(p)}/${p.plural}`, { query: pageQuery(p) }),
    replaceNamespacedCustomObjectStatus: (p) =>
      client.request('PUT', `${inNamespace(p)}${named(p.name)}/status`, { body: p.body }),
    deleteNamespacedCustomObject: (p) =>
      client.request('DELETE', inNamespace(p) + named(p.name), p.body ? { body: p.body } : {}),
  };
}

export function leasesApi(client: KubeClient): LeasesApi {
  const leases = (namespace: string) =>
    `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
  return {
    readNamespacedLease: ({ namespace, name }) => client.request('GET', leases(namespace) + named(name)),
    createNamespacedLease: ({ namespace, body }) => client.request('POST', leases(namespace), { body }),
    replaceNamespacedLease: ({ namespace, name, body }) =>
      client.request('PUT', leases(namespace) + named(name), { body }),
  };
}
