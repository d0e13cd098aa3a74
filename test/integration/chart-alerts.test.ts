// The chart's monitoring objects (SPEC §5): the PrometheusRule's alerts pass `promtool check rules`
// and the `promtool test rules` cases of test/prometheus/alerts.test.yaml, which make every alert
// fire and stay silent; each alert has a runbook section in docs/operations.md and uses metrics the
// operator exports; and neither the ServiceMonitor nor the PrometheusRule is rendered where the
// cluster does not serve their API (the real API server here has no Prometheus Operator).
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadYaml } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../../src/observability/metrics.js';
import { helmBinary, ofKind, render } from './support/chart.js';
import { useTestNamespace } from './support/context.js';
import { ROOT } from './support/kube.js';
import { promtool, promtoolBinary } from './support/promtool.js';

const ctx = useTestNamespace('alerts');
const RELEASE = 'scim';
const MONITORING_APIS = [
  'monitoring.coreos.com/v1/ServiceMonitor',
  'monitoring.coreos.com/v1/PrometheusRule',
];
const RUNBOOKS = path.join(ROOT, 'docs/operations.md');
/** Metrics the rules may use that the operator does not export yet, and Prometheus' own `up`. */
const NOT_YET_EXPORTED = {
  // Added by the verifier's own Deployment (docs/verifier.md).
  scim_verifier_index_staleness_seconds: 'the verifier split',
  up: 'Prometheus',
};

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
interface RuleTest {
  alert_rule_test: { eval_time: string; alertname: string; exp_alerts: unknown[] }[];
}

let rules: Rule[];
let dir: string;

beforeAll(() => {
  helmBinary();
  promtoolBinary();
  const [rule] = ofKind(
    render({
      release: RELEASE,
      namespace: 'scim-system',
      set: ['prometheusRule.enabled=true'],
      apiVersions: MONITORING_APIS,
    }),
    'PrometheusRule',
  );
  const groups = (rule?.spec as { groups: { name: string; rules: Rule[] }[] } | undefined)?.groups ?? [];
  rules = groups.flatMap((g) => g.rules);
  dir = mkdtempSync(path.join(os.tmpdir(), 'scim-alerts-'));
  writeFileSync(path.join(dir, 'rules.yaml'), JSON.stringify({ groups }));
  copyFileSync(path.join(ROOT, 'test/prometheus/alerts.test.yaml'), path.join(dir, 'alerts.test.yaml'));
}, 20 * 60_000);

describe('the PrometheusRule', () => {
  it('has the alerts of the runbook', () => {
    expect(rules.map((r) => r.alert)).toEqual([
      'ScimTokenOverdue',
      'ScimTokenExpiringSoon',
      'ScimDomainNotReady',
      'ScimRotationFailed',
      'ScimDeliveryFailed',
      'ScimVerifierIndexStale',
      'ScimVerifierNotReady',
      'ScimNoLeader',
    ]);
  });

  it('passes promtool check rules', () => {
    const r = promtool(['check', 'rules', path.join(dir, 'rules.yaml')]);
    expect(r.stdout + r.stderr).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('passes the promtool test rules cases of test/prometheus/alerts.test.yaml', () => {
    const r = promtool(['test', 'rules', path.join(dir, 'alerts.test.yaml')]);
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('has, for every alert, a case where it fires and one where it stays silent', () => {
    const cases = loadYaml<{ tests: RuleTest[] }>(
      readFileSync(path.join(ROOT, 'test/prometheus/alerts.test.yaml'), 'utf8'),
    ).tests.flatMap((t) => t.alert_rule_test);
    for (const { alert } of rules) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(
        mine.some((c) => c.exp_alerts.length > 0),
        `${alert} never fires in alerts.test.yaml`,
      ).toBe(true);
      expect(
        mine.some((c) => c.exp_alerts.length === 0),
        `${alert} is never silent in alerts.test.yaml`,
      ).toBe(true);
    }
  });

  it('points every alert at its runbook section in docs/operations.md', () => {
    const anchors = new Set(
      [...readFileSync(RUNBOOKS, 'utf8').matchAll(/^#{2,4} (.+)$/gm)].map((m) =>
        m[1]!
          .trim()
          .toLowerCase()
          .replace(/[^a-z0-9 -]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    for (const r of rules) {
      expect(r.annotations.runbook_url).toMatch(/\/docs\/operations\.md#[a-z]+$/);
      const anchor = r.annotations.runbook_url!.split('#')[1]!;
      expect(anchors.has(anchor), `docs/operations.md has no section #${anchor}`).toBe(true);
      expect(r.labels.severity).toMatch(/^(info|warning|critical)$/);
      expect(r.annotations.summary).toBeTruthy();
      expect(r.annotations.description).toBeTruthy();
    }
  });

  it('uses only metrics the operator exports (or names what will export them)', async () => {
    const exported = new Set(
      [...(await new Metrics().render()).matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!),
    );
    const used = new Set(
      rules.flatMap((r) => [...r.expr.matchAll(/\b([a-z_:][a-z0-9_:]*)\{/g)].map((m) => m[1]!)),
    );
    expect(used.size).toBeGreaterThan(5);
    for (const name of used) {
      expect(
        exported.has(name) || name in NOT_YET_EXPORTED,
        `${name} is neither exported by src/observability/metrics.ts nor listed as coming`,
      ).toBe(true);
    }
  });

  it('selects the metrics by a custom selector and leaves out disabled alerts', () => {
    const [rule] = ofKind(
      render({
        release: RELEASE,
        namespace: 'x',
        set: ['prometheusRule.enabled=true', 'prometheusRule.disabled={ScimDeliveryFailed}'],
        setJson: ['prometheusRule.selector="namespace=\\"scim\\""'],
        apiVersions: MONITORING_APIS,
      }),
      'PrometheusRule',
    );
    const custom = (rule?.spec as { groups: { rules: Rule[] }[] }).groups[0]!.rules;
    expect(custom.map((r) => r.alert)).not.toContain('ScimDeliveryFailed');
    expect(custom).toHaveLength(rules.length - 1);
    for (const r of custom) expect(r.expr).toContain('{namespace="scim"');
  });
});

describe('where the Prometheus Operator is not installed', () => {
  it('renders neither a ServiceMonitor nor a PrometheusRule, even when asked to (the real API server)', () => {
    // crds.enabled=false: the test cluster's CRDs come from crds/, not from a Helm release (see
    // chart-crds.test.ts for taking them over); likewise the cluster-scoped roles and policies, which
    // other test files apply to this shared API server and Helm would refuse to import.
    const set = [
      'metrics.serviceMonitor.enabled=true',
      'prometheusRule.enabled=true',
      'crds.enabled=false',
      'userRoles.create=false',
      'admissionPolicy.create=false',
    ];
    const against = render({ release: RELEASE, namespace: ctx.namespace, set, kubeconfig: ctx.kubeconfig });
    expect(against.some((o) => o.kind === 'Deployment')).toBe(true);
    expect(against.filter((o) => o.kind === 'ServiceMonitor' || o.kind === 'PrometheusRule')).toEqual([]);
    const withApi = render({ release: RELEASE, namespace: ctx.namespace, set, apiVersions: MONITORING_APIS });
    expect(withApi.map((o) => o.kind)).toEqual(expect.arrayContaining(['ServiceMonitor', 'PrometheusRule']));
  });
});
