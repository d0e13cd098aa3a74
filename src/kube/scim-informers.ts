// Restarting informers for this operator's custom resources, one per watched namespace (or one
// cluster-wide when the list is empty). Shared by the controllers and the verifier. Their cached
// objects keep neither managedFields nor the last-applied-configuration annotation (kube/trim.ts).
import {
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/types.js';
import { RestartingInformer, type InformerLog } from './informer.js';
import { withoutApplyBookkeeping } from './trim.js';

export function customResourceInformers<T extends KubernetesObject>(
  kc: KubeConfig,
  plural: string,
  namespaces: readonly string[],
  log: InformerLog,
  namePrefix: string = plural,
): RestartingInformer<T>[] {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const scopes: (string | undefined)[] = namespaces.length > 0 ? [...namespaces] : [undefined];
  return scopes.map(
    (ns) =>
      new RestartingInformer<T>({
        name: ns ? `${namePrefix}/${ns}` : namePrefix,
        kc,
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
        transform: withoutApplyBookkeeping,
        log,
      }),
  );
}
