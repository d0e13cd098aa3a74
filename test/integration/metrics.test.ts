// The operator's Prometheus metrics (SPEC §5), tested by scraping /metrics after real work:
// reconciles, queue depth, token age, rotations, verifier requests — and no token anywhere in it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestNamespace } from './support/context.js';
import { waitFor } from './support/kube.js';
import { saveOutput, startOperator, type OperatorProcess } from './support/operator.js';
import { Scim, secretValue } from './support/scim.js';
import { verifierListening, verify } from './support/verifier.js';

const ctx = useTestNamespace('metrics');
let scim: Scim;
let operator: OperatorProcess;
let text = '';
let token = '';

/** The value of one series, or undefined when it is not exported. */
function sample(name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (want.every((w) => line.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

beforeAll(async () => {
  scim = new Scim(ctx, ctx.namespace);
  operator = await startOperator({ kubeconfig: ctx.kubeconfig, namespaces: [ctx.namespace] });
  await scim.createDomain('metered', { domain: `metered-${ctx.runId}.example` });
  await scim.waitForReady('metered');
  await scim.createRotation('metered-now', { domainRef: { name: 'metered' } });
  await scim.waitForRotation('metered-now', { reason: 'Rotated', status: 'True' });
  token = secretValue(await scim.getSecret('metered-scim-token'), 'token')!;
  const { verifier } = await verifierListening(operator);
  await waitFor('the verifier to accept the new token', async () =>
    (await verify(verifier, token)).status === 200 ? true : undefined,
  );
  await verify(verifier, 'sct_notatoken');
  text = await (await fetch(`${operator.metricsUrl}/metrics`)).text();
});

afterAll(async () => {
  await operator?.stop();
  if (operator) saveOutput(ctx.runId, 'metrics', operator.output());
});

describe('/metrics after issuing, rotating and verifying', () => {
  it('counts reconciles by controller and result, with a duration histogram', () => {
    expect(sample('scim_reconcile_total', { controller: 'scimdomain', result: 'success' })).toBeGreaterThan(
      0,
    );
    expect(sample('scim_reconcile_duration_seconds_count', { controller: 'scimdomain' })).toBeGreaterThan(0);
    expect(text).toMatch(/# TYPE scim_reconcile_errors_total counter/);
  });

  it('reports the work-queue depth', () => {
    expect(sample('scim_workqueue_depth', { queue: 'scimdomain' })).toBeGreaterThanOrEqual(0);
  });

  it('reports the age of each domain token, labelled by namespace and name only', () => {
    const age = sample('scim_token_age_seconds', { namespace: ctx.namespace, scimdomain: 'metered' });
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(600);
  });

  it('counts rotations by trigger and result', () => {
    expect(sample('scim_rotations_total', { trigger: 'manual', result: 'rotated' })).toBe(1);
    expect(sample('scim_rotations_total', { trigger: 'schedule', result: 'rotated' })).toBe(0);
  });

  it('counts verifier requests by result', () => {
    expect(sample('scim_verify_requests_total', { result: 'valid' })).toBeGreaterThanOrEqual(1);
    expect(sample('scim_verify_requests_total', { result: 'malformed' })).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/scim_verify_request_duration_seconds_bucket/);
  });

  it('counts its own API requests and says it leads (no leader election: always)', () => {
    expect(sample('scim_kube_requests_total', { method: 'GET' })).toBeGreaterThan(0);
    expect(sample('scim_kube_requests_total', { method: 'PUT' })).toBeGreaterThan(0);
    expect(sample('scim_leader')).toBe(1);
  });

  it('never carries a token', () => {
    expect(token).toMatch(/^sct_/);
    expect(text).not.toContain(token);
    expect(text).not.toMatch(/sct_[0-9A-Za-z]{20,}/);
  });
});
