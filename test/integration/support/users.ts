// Real credentials for RBAC tests: a ServiceAccount in the test namespace, a token minted for it
// with TokenRequest, and a KubeConfig that authenticates with only that token.
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
  type V1PolicyRule,
} from '@kubernetes/client-node';
import type { Cluster } from './kube.js';

export interface TestUser {
  name: string;
  username: string;
  kc: KubeConfig;
  custom: CustomObjectsApi;
  core: CoreV1Api;
}

export async function serviceAccountUser(c: Cluster, namespace: string, name: string): Promise<TestUser> {
  await c.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  const tr = await c.core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = c.kc.getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'test',
        server: cluster.server,
        ...(cluster.caData ? { caData: cluster.caData } : {}),
        ...(cluster.caFile ? { caFile: cluster.caFile } : {}),
        skipTLSVerify: cluster.skipTLSVerify,
      },
    ],
    users: [{ name, token: tr.status!.token }],
    contexts: [{ name: 'test', cluster: 'test', user: name, namespace }],
    currentContext: 'test',
  });
  return {
    name,
    username: `system:serviceaccount:${namespace}:${name}`,
    kc,
    custom: kc.makeApiClient(CustomObjectsApi),
    core: kc.makeApiClient(CoreV1Api),
  };
}

export async function grantRole(
  c: Cluster,
  namespace: string,
  user: TestUser,
  roleName: string,
  rules: V1PolicyRule[],
): Promise<void> {
  const rbac = c.kc.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name: roleName }, rules } });
  await bind(c, namespace, user, roleName, 'Role');
}

export async function bind(
  c: Cluster,
  namespace: string,
  user: TestUser,
  roleName: string,
  kind: 'Role' | 'ClusterRole',
): Promise<void> {
  const rbac = c.kc.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: `${user.name}-${roleName}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name: roleName },
      subjects: [{ kind: 'ServiceAccount', name: user.name, namespace }],
    },
  });
}
