// Integration-test global setup: a real Kubernetes API server for the whole run.
// Order of preference: SCIM_TEST_KUBECONFIG (any cluster, e.g. kind) > the local control plane
// already running (npm run cluster:up) > a local control plane started here and stopped at the end.
// Installs the CRDs from crds/ and hands the tests the kubeconfig and a run id.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { ROOT, installCrds, loadKubeConfig, deleteRunNamespaces } from './kube.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
    runId: string;
  }
}

function cluster(command: 'status' | 'up' | 'down', quiet = false): number {
  const result = spawnSync('bash', [path.join(ROOT, 'test/controlplane/cluster.sh'), command], {
    stdio: quiet ? 'ignore' : ['ignore', 'inherit', 'inherit'],
  });
  return result.status ?? 1;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runId = `r${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  let kubeconfig = process.env.SCIM_TEST_KUBECONFIG;
  let startedHere = false;
  if (!kubeconfig) {
    const running = cluster('status', true) === 0;
    if (cluster('up') !== 0) throw new Error('the local control plane did not start; see the output above');
    startedHere = !running;
    kubeconfig = path.join(process.env.SCIM_CLUSTER_DIR ?? path.join(ROOT, '.cluster'), 'kubeconfig');
  }
  const kc = loadKubeConfig(kubeconfig);
  await installCrds(kc);
  project.provide('kubeconfig', kubeconfig);
  project.provide('runId', runId);

  return async () => {
    await deleteRunNamespaces(kc, runId);
    if (startedHere && !process.env.SCIM_TEST_KEEP_CLUSTER) cluster('down');
  };
}
