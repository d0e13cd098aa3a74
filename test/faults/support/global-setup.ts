// Global setup of the faults project: a run id and the directory of this run's fault control plane,
// and at the end that plane stopped and removed (unless SCIM_TEST_KEEP_CLUSTER is set, or
// SCIM_FAULT_CLUSTER_DIR named one that was running before). The plane itself is started lazily by
// the first test file (support/context.ts); plane.ts says why.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { deleteRunNamespaces, loadKubeConfig } from '../../integration/support/kube.js';
import { FaultPlane, faultClusterDir } from './plane.js';

declare module 'vitest' {
  export interface ProvidedContext {
    faultRunId: string;
    faultClusterDir: string;
  }
}

export default function setup(project: TestProject): () => Promise<void> {
  const runId = `f${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const plane = new FaultPlane(faultClusterDir(runId));
  const wasRunning = plane.running();
  project.provide('faultRunId', runId);
  project.provide('faultClusterDir', plane.dir);
  return async () => {
    if (!plane.running()) return;
    if (wasRunning || process.env.SCIM_TEST_KEEP_CLUSTER) {
      if (existsSync(plane.kubeconfig))
        await deleteRunNamespaces(loadKubeConfig(plane.kubeconfig), runId).catch(() => undefined);
      return;
    }
    plane.stop();
    // .cluster-faults/ itself goes once the last run's plane is gone.
    const parent = path.dirname(plane.dir);
    if (path.basename(parent) === '.cluster-faults' && existsSync(parent) && readdirSync(parent).length === 0)
      rmdirSync(parent);
  };
}
