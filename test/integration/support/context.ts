// Per-file test context: a cluster client and a fresh namespace labelled with the run id,
// created before the file's tests and deleted after them.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, inject } from 'vitest';
import { RUN_LABEL, clusterFor, type Cluster } from './kube.js';

export interface TestContext extends Cluster {
  namespace: string;
  runId: string;
  kubeconfig: string;
}

/** Call at the top level of a test file; the returned object is filled in before the first test. */
export function useTestNamespace(prefix = 't'): TestContext {
  const ctx = {} as TestContext;
  beforeAll(async () => {
    const kubeconfig = inject('kubeconfig');
    const runId = inject('runId');
    Object.assign(ctx, clusterFor(kubeconfig), { kubeconfig, runId });
    ctx.namespace = `${prefix}-${runId}-${randomBytes(3).toString('hex')}`;
    await ctx.core.createNamespace({
      body: { metadata: { name: ctx.namespace, labels: { [RUN_LABEL]: runId } } },
    });
  });
  afterAll(async () => {
    if (ctx.namespace) await ctx.core.deleteNamespace({ name: ctx.namespace }).catch(() => undefined);
  });
  return ctx;
}
