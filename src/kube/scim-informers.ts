// Restarting informers for this operator's custom resources, one per watched namespace (or one
// cluster-wide when the list is empty). Shared by the controllers and the verifier. Their cached
// objects keep neither managedFields nor the last-applied-configuration annotation (kube/trim.ts).
import type { KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { DOMAIN_PLURAL, GROUP, VERSION, type ScimDomain } from '../api/types.js';
import { customObjectsApi } from './apis.js';
import type { KubeClient } from './client.js';
import { RestartingInformer, type InformerLog } from './informer.js';
import { withoutApplyBookkeeping } from './trim.js';

export interface CustomResourceInformerOptions<T> {
  /** Informer names (in logs): `<namePrefix>/<namespace>`; default the plural. */
  namePrefix?: string;
  /** Ceiling of the restart backoff; default the informer's (30 s). */
  maxBackoffMs?: number;
  /** The watchdog's silence bound; default the informer's (90 s). */
  silenceTimeoutMs?: number;
  /** See InformerOptions; default the informer's (5 min). */
  minWatchTimeoutMs?: number;
  /** Applied to each object after the bookkeeping is dropped: keeps only what the readers use. */
  view?: (obj: T) => T;
}

/**
 * The ScimDomain watch restarts within 5 s of the API server coming back, not the default 30 s: the
 * verifier answers from this cache, and a revocation written meanwhile (by a leader that could reach
 * the API server when this replica could not) is only seen after the re-list.
 */
export const DOMAIN_INFORMER_MAX_BACKOFF_MS = 5_000;

export function customResourceInformers<T extends KubernetesObject>(
  client: KubeClient,
  plural: string,
  namespaces: readonly string[],
  log: InformerLog,
  {
    namePrefix = plural,
    maxBackoffMs,
    silenceTimeoutMs,
    minWatchTimeoutMs,
    view,
  }: CustomResourceInformerOptions<T> = {},
): RestartingInformer<T>[] {
  const transform = view ? (obj: T) => view(withoutApplyBookkeeping(obj)) : withoutApplyBookkeeping;
  const custom = customObjectsApi(client);
  const scopes: (string | undefined)[] = namespaces.length > 0 ? [...namespaces] : [undefined];
  return scopes.map(
    (ns) =>
      new RestartingInformer<T>({
        name: ns ? `${namePrefix}/${ns}` : namePrefix,
        client,
        path: ns
          ? `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${plural}`
          : `/apis/${GROUP}/${VERSION}/${plural}`,
        list: async ({ limit, continue: _continue }) =>
          (ns
            ? await custom.listNamespacedCustomObject({
                group: GROUP,
                version: VERSION,
                namespace: ns,
                plural,
                limit,
                _continue,
              })
            : await custom.listClusterCustomObject({
                group: GROUP,
                version: VERSION,
                plural,
                limit,
                _continue,
              })) as KubernetesListObject<T>,
        transform,
        log,
        ...(maxBackoffMs !== undefined ? { maxBackoffMs } : {}),
        ...(silenceTimeoutMs !== undefined ? { silenceTimeoutMs } : {}),
        ...(minWatchTimeoutMs !== undefined ? { minWatchTimeoutMs } : {}),
      }),
  );
}

/** The ScimDomain informers every replica runs, shared by the controllers and the verifier. */
export function scimDomainInformers(
  client: KubeClient,
  namespaces: readonly string[],
  log: InformerLog,
  namePrefix = DOMAIN_PLURAL,
  {
    silenceTimeoutMs,
    minWatchTimeoutMs,
    view,
  }: Pick<CustomResourceInformerOptions<ScimDomain>, 'silenceTimeoutMs' | 'minWatchTimeoutMs' | 'view'> = {},
): RestartingInformer<ScimDomain>[] {
  return customResourceInformers<ScimDomain>(client, DOMAIN_PLURAL, namespaces, log, {
    namePrefix,
    maxBackoffMs: DOMAIN_INFORMER_MAX_BACKOFF_MS,
    ...(view ? { view } : {}),
    ...(silenceTimeoutMs !== undefined ? { silenceTimeoutMs } : {}),
    ...(minWatchTimeoutMs !== undefined ? { minWatchTimeoutMs } : {}),
  });
}
