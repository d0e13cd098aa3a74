import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Histogram, Registry, register as globalRegistry } from 'prom-client';
import { describe, it, expect } from 'vitest';
import type { ScimDomain } from '../api/types.js';
import { generateToken } from '../rules/token.js';
import {
  INVALID_LABEL,
  Metrics,
  ROTATION_RESULTS,
  ROTATION_TRIGGERS,
  VERIFY_RESULTS,
  domainSamples,
  identifierLabel,
} from './metrics.js';
import type { DomainSample, VerifyResult } from './metrics.js';

function quietMetrics(domains?: () => DomainSample[]): Metrics {
  return new Metrics({ defaultMetrics: false, ...(domains ? { domains } : {}) });
}

// The value of one sample line, e.g. `scim_leader 1`; undefined when the series is absent.
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('Metrics', () => {
  it('records reconciles by controller and result, with their duration', async () => {
    const m = quietMetrics();
    m.recordReconcile('scimdomain', 'success', 0.02);
    m.recordReconcile('scimdomain', 'success', 0.3);
    m.recordReconcile('scimdomain', 'requeue', 0.01);
    const text = await m.render();
    expect(sample(text, 'scim_reconcile_total{controller="scimdomain",result="success"}')).toBe(2);
    expect(sample(text, 'scim_reconcile_total{controller="scimdomain",result="requeue"}')).toBe(1);
    expect(sample(text, 'scim_reconcile_duration_seconds_count{controller="scimdomain"}')).toBe(3);
    expect(sample(text, 'scim_reconcile_duration_seconds_bucket{le="0.025",controller="scimdomain"}')).toBe(
      2,
    );
  });

  it('offers the reconcile metrics as inc/startTimer/set views with the same series', async () => {
    const m = quietMetrics();
    const end = m.reconcileDuration.startTimer({ controller: 'scimdomain' });
    m.reconcileTotal.inc({ controller: 'scimdomain', result: 'error' });
    m.reconcileErrors.inc({ controller: 'scimdomain', reason: 'http_409' });
    m.workqueueDepth.set({ queue: 'scimdomain' }, 7);
    expect(end()).toBeGreaterThanOrEqual(0);
    const text = await m.render();
    expect(sample(text, 'scim_reconcile_duration_seconds_count{controller="scimdomain"}')).toBe(1);
    expect(sample(text, 'scim_reconcile_total{controller="scimdomain",result="error"}')).toBe(1);
    expect(sample(text, 'scim_reconcile_errors_total{controller="scimdomain",reason="http_409"}')).toBe(1);
    expect(sample(text, 'scim_workqueue_depth{queue="scimdomain"}')).toBe(7);
  });

  it('counts reconcile errors by controller and reason', async () => {
    const m = quietMetrics();
    m.recordReconcileError('scimtokenrotation', 'ApiError');
    m.recordReconcileError('scimtokenrotation', 'ApiError');
    expect(
      sample(
        await m.render(),
        'scim_reconcile_errors_total{controller="scimtokenrotation",reason="ApiError"}',
      ),
    ).toBe(2);
  });

  it('reports the latest work-queue depth per queue', async () => {
    const m = quietMetrics();
    m.setWorkqueueDepth('scimdomain', 5);
    m.setWorkqueueDepth('scimdomain', 3);
    expect(sample(await m.render(), 'scim_workqueue_depth{queue="scimdomain"}')).toBe(3);
  });

  it.each(ROTATION_TRIGGERS.flatMap((trigger) => ROTATION_RESULTS.map((result) => ({ trigger, result }))))(
    'counts $trigger rotations that ended $result, starting from 0',
    async ({ trigger, result }) => {
      const m = quietMetrics();
      const series = `scim_rotations_total{trigger="${trigger}",result="${result}"}`;
      expect(sample(await m.render(), series)).toBe(0);
      m.recordRotation(trigger, result);
      expect(sample(await m.render(), series)).toBe(1);
    },
  );

  it.each(VERIFY_RESULTS)('counts verifier requests with result %s, starting from 0', async (result) => {
    const m = quietMetrics();
    const series = `scim_verify_requests_total{result="${result}"}`;
    expect(sample(await m.render(), series)).toBe(0);
    m.recordVerifyRequest(result, 0.00004);
    expect(sample(await m.render(), series)).toBe(1);
  });

  it('resolves verifier latency below a millisecond', async () => {
    const m = quietMetrics();
    m.recordVerifyRequest('valid', 0.00004);
    m.recordVerifyRequest('valid', 0.0002);
    m.recordVerifyRequest('valid', 0.003);
    const text = await m.render();
    const bucket = (le: string): number | undefined =>
      sample(text, `scim_verify_request_duration_seconds_bucket{le="${le}",result="valid"}`);
    expect(bucket('0.00005')).toBe(1);
    expect(bucket('0.00025')).toBe(2);
    expect(bucket('0.001')).toBe(2);
    expect(bucket('0.005')).toBe(3);
  });

  it('renders verifier latency exactly as a prom-client histogram observing the same requests would', async () => {
    const m = quietMetrics();
    const reference = new Registry();
    const histogram = new Histogram({
      name: 'scim_verify_request_duration_seconds',
      help: 'Time to answer a verifier request.',
      labelNames: ['result'],
      buckets: [
        0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
      ],
      registers: [reference],
    });
    const observations: [VerifyResult, number][] = [
      ['valid', 0.00001],
      ['valid', 0.000025],
      ['valid', 0.0003],
      ['unknown', 0.00004],
      ['revoked', 2],
      ['missing', 0.001],
      ['malformed', 0.0000001],
      ['error', 0.05],
    ];
    for (const result of VERIFY_RESULTS) histogram.zero({ result });
    for (const [result, seconds] of observations) {
      m.recordVerifyRequest(result, seconds);
      histogram.observe({ result }, seconds);
    }
    const lines = (text: string) =>
      text
        .split('\n')
        .filter((l) => l.startsWith('scim_verify_request_duration_seconds'))
        .sort();
    const ours = lines(await m.render());
    expect(ours).toHaveLength(VERIFY_RESULTS.length * 17);
    expect(ours).toEqual(lines(await reference.metrics()));
  });

  it('reports leadership as 1 or 0, starting at 0', async () => {
    const m = quietMetrics();
    expect(sample(await m.render(), 'scim_leader')).toBe(0);
    m.setLeader(true);
    expect(sample(await m.render(), 'scim_leader')).toBe(1);
    m.setLeader(false);
    expect(sample(await m.render(), 'scim_leader')).toBe(0);
  });
});

describe('Metrics per domain', () => {
  const issuedAt = '2030-01-01T11:00:00Z'; // Unix 1893495600

  it('exports when each current token was issued and, with spec.maxTokenAge, when it passes it', async () => {
    const m = quietMetrics(() => [
      { namespace: 'team-a', name: 'example', issuedAt, maxTokenAge: '720h', ready: 'True' },
      { namespace: 'team-b', name: 'other', issuedAt: '2030-01-01T11:00:00.500Z', ready: 'True' },
    ]);
    const text = await m.render();
    expect(sample(text, 'scim_token_issued_timestamp_seconds{namespace="team-a",name="example"}')).toBe(
      1893495600,
    );
    expect(sample(text, 'scim_token_expiry_timestamp_seconds{namespace="team-a",name="example"}')).toBe(
      1893495600 + 720 * 3600,
    );
    expect(sample(text, 'scim_token_issued_timestamp_seconds{namespace="team-b",name="other"}')).toBe(
      1893495600.5,
    );
    expect(text).not.toContain('scim_token_expiry_timestamp_seconds{namespace="team-b"');
  });

  it.each([
    { ready: 'True', want: [1, 0, 0] },
    { ready: 'False', want: [0, 1, 0] },
    { ready: 'Unknown', want: [0, 0, 1] },
  ] as const)(
    'exports readiness $ready as 1 on its condition series and 0 on the others',
    async ({ ready, want }) => {
      const m = quietMetrics(() => [{ namespace: 'ns', name: 'd', ready }]);
      const text = await m.render();
      expect(
        ['True', 'False', 'Unknown'].map((c) =>
          sample(text, `scim_domain_ready{namespace="ns",name="d",condition="${c}"}`),
        ),
      ).toEqual(want);
      expect(text).not.toContain('scim_token_issued_timestamp_seconds{');
    },
  );

  it.each([
    [true, 1],
    [false, 0],
    [undefined, 0],
  ])('exports suspend=%s as scim_domain_suspended %d', async (suspended, want) => {
    const m = quietMetrics(() => [
      { namespace: 'ns', name: 'd', ready: 'False', ...(suspended === undefined ? {} : { suspended }) },
    ]);
    expect(sample(await m.render(), 'scim_domain_suspended{namespace="ns",name="d"}')).toBe(want);
  });

  it('follows a domain from scrape to scrape: new token, new max age, readiness, suspension', async () => {
    let d: DomainSample = { namespace: 'ns', name: 'd', issuedAt, maxTokenAge: '720h', ready: 'True' };
    const m = quietMetrics(() => [d]);
    await m.render();
    d = {
      namespace: 'ns',
      name: 'd',
      issuedAt: '2030-02-01T00:00:00Z',
      maxTokenAge: '1h',
      ready: 'False',
      suspended: true,
    };
    const text = await m.render();
    expect(sample(text, 'scim_token_issued_timestamp_seconds{namespace="ns",name="d"}')).toBe(1896134400);
    expect(sample(text, 'scim_token_expiry_timestamp_seconds{namespace="ns",name="d"}')).toBe(
      1896134400 + 3600,
    );
    expect(sample(text, 'scim_domain_ready{namespace="ns",name="d",condition="False"}')).toBe(1);
    expect(sample(text, 'scim_domain_ready{namespace="ns",name="d",condition="True"}')).toBe(0);
    expect(sample(text, 'scim_domain_suspended{namespace="ns",name="d"}')).toBe(1);
    d = { namespace: 'ns', name: 'd', ready: 'False', suspended: true };
    const after = await m.render();
    expect(after).not.toContain('scim_token_issued_timestamp_seconds{namespace="ns"');
    expect(after).not.toContain('scim_token_expiry_timestamp_seconds{namespace="ns"');
  });

  it('renders the same text while nothing changes, and new text when a domain goes and another comes', async () => {
    let domains: DomainSample[] = [{ namespace: 'ns', name: 'a', issuedAt, ready: 'True' }];
    const m = quietMetrics(() => domains);
    const first = await m.render();
    expect(await m.render()).toBe(first);
    domains = [{ namespace: 'ns', name: 'b', issuedAt, ready: 'True' }];
    const second = await m.render();
    expect(second).toContain('name="b"');
    expect(second).not.toContain('name="a"');
  });

  it('drops domains that are no longer in the source', async () => {
    let domains: DomainSample[] = [{ namespace: 'ns', name: 'gone', issuedAt, ready: 'True' }];
    const m = quietMetrics(() => domains);
    expect(await m.render()).toContain('name="gone"');
    domains = [];
    expect(await m.render()).not.toContain('name="gone"');
  });

  it('uses a source set after construction', async () => {
    const m = quietMetrics();
    m.setDomainSource(() => [{ namespace: 'ns', name: 'late', issuedAt, ready: 'True' }]);
    expect(sample(await m.render(), 'scim_token_issued_timestamp_seconds{namespace="ns",name="late"}')).toBe(
      1893495600,
    );
  });

  it.each([
    {
      name: 'an invalid issue time',
      domain: { namespace: 'ns', name: 'd', issuedAt: 'nonsense', maxTokenAge: '720h', ready: 'True' },
      issued: undefined,
      ready: 1,
    },
    {
      name: 'an invalid max age',
      domain: { namespace: 'ns', name: 'd', issuedAt, maxTokenAge: '30d', ready: 'True' },
      issued: 1893495600,
      ready: 1,
    },
    {
      name: 'a name that is not a Kubernetes name',
      domain: { namespace: 'ns', name: 'D_x', issuedAt, ready: 'True' },
      issued: undefined,
      ready: undefined,
    },
  ] as const)('copes with $name', async ({ domain, issued, ready }) => {
    const m = quietMetrics(() => [domain]);
    const text = await m.render();
    const labels = `namespace="ns",name="${domain.name}"`;
    expect(sample(text, `scim_token_issued_timestamp_seconds{${labels}}`)).toBe(issued);
    expect(sample(text, `scim_token_expiry_timestamp_seconds{${labels}}`)).toBeUndefined();
    expect(sample(text, `scim_domain_ready{${labels},condition="True"}`)).toBe(ready);
  });

  it('still serves the other metrics when the domain source throws', async () => {
    const m = quietMetrics(() => {
      throw new Error('index not built');
    });
    m.setLeader(true);
    const text = await m.render();
    expect(sample(text, 'scim_leader')).toBe(1);
    expect(text).not.toContain('scim_domain_ready{');
  });
});

describe('domainSamples', () => {
  const token = {
    id: 'tok',
    fingerprint: 'sha256:x',
    sha256: 'x',
    generation: 1,
    issuedAt: '2030-01-01T11:00:00Z',
  };
  const ready = (status: 'True' | 'False') => ({
    type: 'Ready',
    status,
    reason: 'TokenIssued',
    message: '',
    lastTransitionTime: '2030-01-01T00:00:00Z',
  });
  const domain = (spec: Partial<ScimDomain['spec']>, status?: ScimDomain['status']): ScimDomain => ({
    metadata: { namespace: 'ns', name: 'd' },
    spec: { domain: 'd.example', ...spec },
    ...(status ? { status } : {}),
  });

  it.each([
    {
      name: 'a domain with no status yet',
      d: domain({}),
      want: { ready: 'Unknown', suspended: false },
    },
    {
      name: 'a Ready domain with a max age',
      d: domain({ maxTokenAge: '720h' }, { conditions: [ready('True')], token }),
      want: { ready: 'True', suspended: false, issuedAt: token.issuedAt, maxTokenAge: '720h' },
    },
    {
      name: 'a suspended domain (no token)',
      d: domain({ suspend: true }, { conditions: [ready('False')] }),
      want: { ready: 'False', suspended: true },
    },
  ])('reads $name', ({ d, want }) => {
    const [got] = [...domainSamples([d])];
    expect(got).toMatchObject({ namespace: 'ns', name: 'd', ...want });
    expect(got?.issuedAt).toBe(want.issuedAt);
    expect(got?.maxTokenAge).toBe(want.maxTokenAge);
  });
});

describe('Metrics verifier readiness', () => {
  it('reads the verifier readiness at each scrape, 0 until a source is set or when it throws', async () => {
    const m = quietMetrics();
    expect(sample(await m.render(), 'scim_verifier_ready')).toBe(0);
    let ready = true;
    m.setVerifierReadySource(() => ready);
    expect(sample(await m.render(), 'scim_verifier_ready')).toBe(1);
    ready = false;
    expect(sample(await m.render(), 'scim_verifier_ready')).toBe(0);
    m.setVerifierReadySource(() => {
      throw new Error('no index');
    });
    expect(sample(await m.render(), 'scim_verifier_ready')).toBe(0);
  });
});

describe('Metrics build info', () => {
  it('says which version runs on which Node.js', async () => {
    const m = new Metrics({ defaultMetrics: false, version: '1.2.3' });
    expect(
      sample(await m.render(), `scim_build_info{version="1.2.3",node_version="${process.version}"}`),
    ).toBe(1);
  });

  it("defaults to the package's version", async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(await quietMetrics().render()).toContain(`scim_build_info{version="${pkg.version}",`);
  });
});

describe('Metrics labels', () => {
  it('never exports token material, even when a caller passes a token or an error message as a label', async () => {
    const token = generateToken(randomBytes);
    const m = quietMetrics(() => [
      { namespace: 'ns', name: token, issuedAt: new Date().toISOString(), ready: 'True' },
    ]);
    m.recordReconcileError('scimdomain', token);
    m.recordReconcileError('scimdomain', `secret rejected: ${token}`);
    m.setWorkqueueDepth(token, 1);
    m.recordReconcile(token, 'error', 1);
    m.reconcileErrors.inc({ controller: 'scimdomain', reason: `secret rejected: ${token}` });
    m.reconcileDuration.startTimer({ controller: token })();
    const text = await m.render();
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.slice(4));
    expect(
      sample(text, `scim_reconcile_errors_total{controller="scimdomain",reason="${INVALID_LABEL}"}`),
    ).toBe(3);
  });

  it.each([
    { value: 'scimdomain', want: 'scimdomain' },
    { value: 'ApiError', want: 'ApiError' },
    { value: 'scim.tokens.dev/v1alpha1', want: 'scim.tokens.dev/v1alpha1' },
    { value: '', want: INVALID_LABEL },
    { value: 'has spaces', want: INVALID_LABEL },
    { value: 'x'.repeat(64), want: INVALID_LABEL },
    { value: 'sct_short', want: INVALID_LABEL },
  ])('maps the free-form label $value to $want', ({ value, want }) => {
    expect(identifierLabel(value)).toBe(want);
  });
});

describe('Metrics registry', () => {
  it('keeps its own registry, so two instances coexist and the global registry stays empty', async () => {
    const a = quietMetrics();
    const b = quietMetrics();
    a.setLeader(true);
    expect(sample(await a.render(), 'scim_leader')).toBe(1);
    expect(sample(await b.render(), 'scim_leader')).toBe(0);
    expect(await globalRegistry.metrics()).not.toContain('scim_');
  });

  it('includes process and Node.js metrics by default, without the gauges misnamed as counters', async () => {
    const text = await new Metrics().render();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_heap_size_used_bytes');
    expect(text).toContain('# TYPE nodejs_active_handles gauge');
    expect(text).not.toMatch(/^# TYPE \S+_total (gauge|histogram|summary)$/m);
  });

  it('announces the Prometheus text format', () => {
    expect(quietMetrics().contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});
