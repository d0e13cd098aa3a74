// Global setup of the faults project: a run id, and at the end the fault control plane stopped again
// (unless it was running before the run, or SCIM_TEST_KEEP_CLUSTER is set). The plane itself is
// started lazily by the first test file (support/context.ts), see plane.ts for why.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { deleteRunNamespaces, loadKubeConfig } from '../../integration/support/kube.js';
import { FAULT_KUBECONFIG, faultPlaneRunning, stopFaultPlane } from './plane.js';

declare module 'vitest' {
  export interface ProvidedContext {
    faultRunId: string;
  }
}

export default function setup(project: TestProject): () => Promise<void> {
  const runId = `f${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const wasRunning = faultPlaneRunning();
  project.provide('faultRunId', runId);
  return async () => {
    if (!faultPlaneRunning()) return;
    if (wasRunning || process.env.SCIM_TEST_KEEP_CLUSTER) {
      if (existsSync(FAULT_KUBECONFIG))
        await deleteRunNamespaces(loadKubeConfig(FAULT_KUBECONFIG), runId).catch(() => undefined);
      return;
    }
    stopFaultPlane();
  };
}
