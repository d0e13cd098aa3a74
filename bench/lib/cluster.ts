// The API server a benchmark runs against: by default a control plane of its own in .cluster-bench/
// (started here and stopped at the end, so 10,000 domains never land in the plane other work shares),
// or any cluster given by --kubeconfig (the bench then only creates and deletes its namespaces).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, VersionApi } from '@kubernetes/client-node';
import { installCrds, loadKubeConfig, waitFor } from '../../test/integration/support/kube.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BENCH_CLUSTER_DIR = process.env.SCIM_BENCH_CLUSTER_DIR ?? path.join(ROOT, '.cluster-bench');

export interface BenchCluster {
  kubeconfig: string;
  kubernetes: string;
  /** `own` when this run started the control plane (and stops it). */
  kind: 'own' | 'given';
  stop(): void;
}

function clusterSh(command: string): number {
  const r = spawnSync('bash', [path.join(ROOT, 'test/controlplane/cluster.sh'), command], {
    env: { ...process.env, SCIM_CLUSTER_DIR: BENCH_CLUSTER_DIR },
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 30 * 60_000,
  });
  return r.status ?? 1;
}

export async function benchCluster(kubeconfig: string | undefined): Promise<BenchCluster> {
  let kind: BenchCluster['kind'] = 'given';
  if (!kubeconfig) {
    if (clusterSh('up') !== 0) throw new Error('the benchmark control plane did not start; see above');
    kubeconfig = path.join(BENCH_CLUSTER_DIR, 'kubeconfig');
    kind = 'own';
  }
  const kc = loadKubeConfig(kubeconfig);
  await installCrds(kc);
  const version = await kc.makeApiClient(VersionApi).getCode();
  return {
    kubeconfig,
    kubernetes: version.gitVersion,
    kind,
    stop: () => {
      if (kind === 'own' && !process.env.SCIM_BENCH_KEEP_CLUSTER) clusterSh('down');
    },
  };
}

export async function createNamespace(kubeconfig: string, name: string): Promise<void> {
  const core = loadKubeConfig(kubeconfig).makeApiClient(CoreV1Api);
  await core.createNamespace({
    body: { metadata: { name, labels: { 'scim.tokens.dev/bench': 'true' } } },
  });
}

/** Deletes a namespace; with `wait`, until it is gone (its 10,000 objects take a while). */
export async function deleteNamespace(kubeconfig: string, name: string, wait = false): Promise<void> {
  const core = loadKubeConfig(kubeconfig).makeApiClient(CoreV1Api);
  await core.deleteNamespace({ name }).catch(() => undefined);
  if (!wait) return;
  await waitFor(
    `namespace ${name} deleted`,
    async () => {
      try {
        await core.readNamespace({ name });
        return undefined;
      } catch {
        return true;
      }
    },
    { timeoutMs: 10 * 60_000, intervalMs: 1_000 },
  );
}
