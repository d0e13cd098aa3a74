// The operator process (SPEC §5): it survives failed watches, reports readiness, and stops cleanly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestNamespace } from './support/context.js';
import { waitFor } from './support/kube.js';
import { assertNoTokenLeaks } from './support/leak.js';
import { saveOutput, startOperator, type OperatorProcess } from './support/operator.js';
import { Scim } from './support/scim.js';
import { startApiServerProxy, type ApiServerProxy } from '../support/tcp-proxy.js';

const ctx = useTestNamespace('life');
let scim: Scim;
let proxy: ApiServerProxy;
let operator: OperatorProcess;
const unique = (base: string) => `${base}-${ctx.runId}.example`;

beforeAll(async () => {
  scim = new Scim(ctx, ctx.namespace);
  // The same credentials, through the proxy.
  proxy = await startApiServerProxy(ctx.kc, ctx.namespace);
  operator = await startOperator({ kubeconfig: proxy.kubeconfig, namespaces: [ctx.namespace] });
});

afterAll(async () => {
  await operator?.stop();
  if (operator) saveOutput(ctx.runId, 'lifecycle', operator.output());
  await proxy?.close();
});

const get = async (p: string) => fetch(`${operator.metricsUrl}${p}`);

describe('the operator process', () => {
  it('serves /healthz, /readyz and /metrics', async () => {
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(200);
    const metrics = await (await get('/metrics')).text();
    expect(metrics).toContain('scim_workqueue_depth');
  });

  it('keeps running when its watches fail, and catches up after they come back', async () => {
    await scim.createDomain('before', { domain: unique('before') });
    await scim.waitForReady('before');

    proxy.setDown(true);
    // While the API server is unreachable the domain is created; the operator cannot see it.
    await scim.createDomain('during', { domain: unique('during') });
    await new Promise((r) => setTimeout(r, 2_000));
    expect(operator.child.exitCode).toBeNull();
    expect(operator.output()).toMatch(/informer/);

    proxy.setDown(false);
    const d = await scim.waitForReady('during');
    expect(d.status?.token?.generation).toBe(1);
    expect(operator.child.exitCode).toBeNull();
    expect(operator.output()).toMatch(/restart|re-list|retry/i);
  });

  it('survives connections cut mid-stream, again and again', async () => {
    for (let i = 0; i < 3; i++) {
      proxy.cut();
      await new Promise((r) => setTimeout(r, 300));
    }
    await scim.createDomain('after', { domain: unique('after') });
    await scim.waitForReady('after');
    expect(operator.child.exitCode).toBeNull();
  });

  it('finishes in-flight work and exits 0 on SIGTERM', async () => {
    const code = await operator.stop('SIGTERM');
    expect(code).toBe(0);
    expect(operator.output()).toMatch(/"msg":"stopped"/);
  });

  it('leaves no token in its output, Events or statuses', async () => {
    await waitFor('exit', () => (operator.child.exitCode !== null ? true : undefined));
    await assertNoTokenLeaks(ctx, [ctx.namespace], [operator.output()]);
  });
});
