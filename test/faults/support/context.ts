// Per-file context of a fault test: the fault control plane (started on first use), clients for it,
// and a fresh namespace labelled with the run id, deleted after the file's tests.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, inject } from 'vitest';
import { RUN_LABEL, clusterFor, type Cluster } from '../../integration/support/kube.js';
import { faultPlane } from './plane.js';

export interface FaultContext extends Cluster {
  namespace: string;
  runId: string;
  kubeconfig: string;
}

export function useFaultNamespace(prefix: string): FaultContext {
  const ctx = {} as FaultContext;
  beforeAll(async () => {
    const kubeconfig = faultPlane().ensure();
    const runId = inject('faultRunId');
    const cluster = clusterFor(kubeconfig);
    Object.assign(ctx, cluster, {
      kubeconfig,
      runId,
      namespace: `${prefix}-${runId}-${randomBytes(3).toString('hex')}`,
    });
    await ctx.core.createNamespace({
      body: { metadata: { name: ctx.namespace, labels: { [RUN_LABEL]: runId } } },
    });
  });
  afterAll(async () => {
    if (ctx.namespace) await ctx.core.deleteNamespace({ name: ctx.namespace }).catch(() => undefined);
  });
  return ctx;
}
