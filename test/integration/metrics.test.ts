// The operator's Prometheus metrics (SPEC §5), tested by scraping /metrics after real work:
// reconciles, queue depth, token timestamps, readiness per domain, build info, rotations, verifier
// requests — clean under `promtool check metrics`, and no token anywhere in it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestNamespace } from './support/context.js';
import { ROOT, waitFor } from './support/kube.js';
import { saveOutput, startOperator, type OperatorProcess } from './support/operator.js';
import { promtool } from './support/promtool.js';
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
  await scim.createDomain('metered', { domain: `metered-${ctx.runId}.example`, maxTokenAge: '720h' });
  await scim.createDomain('unlimited', { domain: `unlimited-${ctx.runId}.example` });
  await scim.createDomain('paused', { domain: `paused-${ctx.runId}.example`, suspend: true });
  await scim.waitForReady('unlimited');
  await scim.waitForReady('paused', { status: 'True', reason: 'Suspended' });
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

  it('exports when each current token was issued, labelled by namespace and name only', async () => {
    for (const name of ['metered', 'unlimited']) {
      const issuedAt = (await scim.getDomain(name)).status!.token!.issuedAt;
      expect(sample('scim_token_issued_timestamp_seconds', { namespace: ctx.namespace, name })).toBe(
        Date.parse(issuedAt) / 1000,
      );
    }
    expect(sample('scim_token_issued_timestamp_seconds', { name: 'paused' })).toBeUndefined();
    expect(text).toContain(
      `scim_token_issued_timestamp_seconds{namespace="${ctx.namespace}",name="metered"} `,
    );
  });

  it('exports when a token passes spec.maxTokenAge, for the domains that set one', async () => {
    const issuedAt = (await scim.getDomain('metered')).status!.token!.issuedAt;
    expect(sample('scim_token_expiry_timestamp_seconds', { namespace: ctx.namespace, name: 'metered' })).toBe(
      Date.parse(issuedAt) / 1000 + 720 * 3600,
    );
    expect(sample('scim_token_expiry_timestamp_seconds', { name: 'unlimited' })).toBeUndefined();
  });

  // A suspended domain is Ready=True reason Suspended (kstatus reads it as current; SPEC §2.3);
  // scim_domain_suspended tells it apart.
  it.each([
    ['metered', 'True'],
    ['paused', 'True'],
  ])('exports the readiness of %s (Ready=%s) as one series per condition status', (name, status) => {
    for (const condition of ['True', 'False', 'Unknown']) {
      expect(sample('scim_domain_ready', { namespace: ctx.namespace, name, condition })).toBe(
        condition === status ? 1 : 0,
      );
    }
  });

  it('says which version runs', () => {
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(sample('scim_build_info', { version, node_version: process.version })).toBe(1);
  });

  it('is clean under promtool check metrics (names, types, units, help)', () => {
    const r = promtool(['check', 'metrics'], text);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
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
    // The lists are streamed (watch requests with sendInitialEvents), the status writes are PUTs.
    expect(sample('scim_kube_requests_total', { method: 'WATCH' })).toBeGreaterThan(0);
    expect(sample('scim_kube_requests_total', { method: 'PUT' })).toBeGreaterThan(0);
    expect(sample('scim_leader')).toBe(1);
  });

  it('never carries a token', () => {
    expect(token).toMatch(/^sct_/);
    expect(text).not.toContain(token);
    expect(text).not.toMatch(/sct_[0-9A-Za-z]{20,}/);
  });
});
