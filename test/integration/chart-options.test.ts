// The chart's opt-in NetworkPolicy and its escape hatches (extraArgs, extraEnv, extraVolumes,
// extraVolumeMounts, strategy, probes, extraObjects), rendered by the pinned Helm; their objects are
// checked against the real API server (kubectl apply --dry-run=server) in chart.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { helmBinary, ofKind, render, type Obj } from './support/chart.js';

const RELEASE = 'scim';
const FULLNAME = `${RELEASE}-scim-token-operator`;
const SELECTOR = { 'app.kubernetes.io/name': 'scim-token-operator', 'app.kubernetes.io/instance': RELEASE };

beforeAll(() => {
  helmBinary();
}, 20 * 60_000);

// client-node's loadAllYaml returns typed objects: V1NetworkPolicyIngressRule holds `from` as `_from`.
interface Rule {
  ports: { port: string | number; protocol: string }[];
  _from?: Record<string, unknown>[];
}

function networkPolicy(
  set: string[] = [],
  setJson: string[] = [],
): { podSelector: unknown; policyTypes: string[]; ingress: Rule[] } {
  const [policy] = ofKind(
    render({
      release: RELEASE,
      namespace: 'scim-system',
      set: ['networkPolicy.enabled=true', ...set],
      setJson,
    }),
    'NetworkPolicy',
  );
  if (!policy) throw new Error('no NetworkPolicy rendered');
  return policy.spec as ReturnType<typeof networkPolicy>;
}

const ruleFor = (rules: Rule[], port: string) => rules.find((r) => r.ports.some((p) => p.port === port));

describe('the NetworkPolicy', () => {
  it('is not rendered unless enabled', () => {
    expect(ofKind(render({ release: RELEASE, namespace: 'x' }), 'NetworkPolicy')).toEqual([]);
  });

  it('covers every pod of the release by name and instance, ingress only, by named port', () => {
    const spec = networkPolicy();
    expect(spec.podSelector).toEqual({ matchLabels: SELECTOR });
    expect(spec.policyTypes).toEqual(['Ingress']);
    expect(spec.ingress.flatMap((r) => r.ports)).toEqual([
      { port: 'verify', protocol: 'TCP' },
      { port: 'metrics', protocol: 'TCP' },
    ]);
  });

  it('lets only the release namespace call the verifier by default, and the monitoring namespace scrape', () => {
    const spec = networkPolicy();
    expect(ruleFor(spec.ingress, 'verify')?._from).toEqual([{ podSelector: {} }]);
    expect(ruleFor(spec.ingress, 'metrics')?._from).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
    ]);
  });

  it('lets the chosen namespaces call the verifier, and chosen pods scrape', () => {
    const spec = networkPolicy(
      ['networkPolicy.metrics.podSelector.matchLabels.app\\.kubernetes\\.io/name=prometheus'],
      [
        'networkPolicy.verifier.namespaceSelectors=[{"matchLabels":{"kubernetes.io/metadata.name":"ingress-nginx"}},{"matchLabels":{"team":"a"}}]',
        'networkPolicy.verifier.extraFrom=[{"ipBlock":{"cidr":"10.0.0.0/8"}}]',
      ],
    );
    expect(ruleFor(spec.ingress, 'verify')?._from).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } },
      { namespaceSelector: { matchLabels: { team: 'a' } } },
      { ipBlock: { cidr: '10.0.0.0/8' } },
    ]);
    expect(ruleFor(spec.ingress, 'metrics')?._from).toEqual([
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
      },
    ]);
  });

  it('lets nothing scrape when no monitoring namespace is given (never an empty `from`, which allows all)', () => {
    const spec = networkPolicy([], ['networkPolicy.metrics.namespaceSelectors=[]']);
    expect(ruleFor(spec.ingress, 'metrics')).toBeUndefined();
    for (const rule of spec.ingress) expect(rule._from?.length).toBeGreaterThan(0);
  });
});

interface Container {
  args: string[];
  env: { name: string; value?: string }[];
  volumeMounts: { name: string; mountPath: string }[];
  startupProbe?: unknown;
  livenessProbe?: unknown;
  readinessProbe?: unknown;
}

function deployment(set: string[] = [], setJson: string[] = []) {
  const d = ofKind(render({ release: RELEASE, namespace: 'scim-system', set, setJson }), 'Deployment').find(
    (o) => o.metadata?.name === FULLNAME,
  ) as
    | (Obj & {
        spec: {
          strategy: unknown;
          template: { spec: { volumes: { name: string }[]; containers: Container[] } };
        };
      })
    | undefined;
  if (!d) throw new Error('no Deployment rendered');
  return { spec: d.spec, pod: d.spec.template.spec, container: d.spec.template.spec.containers[0]! };
}

describe('the escape hatches', () => {
  it('pass extra flags and environment to the operator', () => {
    const { container } = deployment(
      [],
      ['extraArgs=["--workers=4"]', 'extraEnv=[{"name":"NODE_OPTIONS","value":"--max-old-space-size=400"}]'],
    );
    expect(parseConfig(container.args, {}).workers).toBe(4);
    expect(container.env).toEqual(
      expect.arrayContaining([{ name: 'NODE_OPTIONS', value: '--max-old-space-size=400' }]),
    );
    expect(container.env.map((e) => e.name)).toEqual(expect.arrayContaining(['POD_NAME', 'POD_NAMESPACE']));
  });

  it('add volumes and mounts beside the chart’s own', () => {
    const { pod, container } = deployment(
      [],
      [
        'extraVolumes=[{"name":"ca","configMap":{"name":"corporate-ca"}}]',
        'extraVolumeMounts=[{"name":"ca","mountPath":"/etc/ssl/corporate","readOnly":true}]',
      ],
    );
    expect(pod.volumes.map((v) => v.name)).toEqual(['tmp', 'token-seal', 'ca']);
    expect(container.volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'token-seal', mountPath: '/etc/scim-token-operator/seal', readOnly: true },
      { name: 'ca', mountPath: '/etc/ssl/corporate', readOnly: true },
    ]);
  });

  it('replace the update strategy', () => {
    expect(deployment().spec.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
    expect(deployment([], ['strategy={"type":"Recreate"}']).spec.strategy).toEqual({ type: 'Recreate' });
  });

  it('change or drop the probes', () => {
    const { container } = deployment(
      [],
      [
        'livenessProbe={"httpGet":{"path":"/healthz","port":"metrics"},"periodSeconds":30,"failureThreshold":5}',
        'startupProbe=null',
      ],
    );
    // Merged over the default, as Helm merges maps: set a key to null to drop it.
    expect(container.livenessProbe).toEqual({
      httpGet: { path: '/healthz', port: 'metrics' },
      periodSeconds: 30,
      timeoutSeconds: 2,
      failureThreshold: 5,
    });
    expect(container.startupProbe).toBeUndefined();
    expect(container.readinessProbe).toMatchObject({ httpGet: { path: '/readyz', port: 'metrics' } });
  });

  it('render extra objects, maps or templated strings', () => {
    const rendered = render({
      release: RELEASE,
      namespace: 'scim-system',
      setJson: [
        'extraObjects=[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"{{ .Release.Name }}-extra"}},"apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: as-text\\n  namespace: {{ .Release.Namespace }}"]',
      ],
    });
    const chartsOwn = new Set(['scim-token-operator-admission']);
    const extra = ofKind(rendered, 'ConfigMap').filter((o) => !chartsOwn.has(o.metadata?.name ?? ''));
    expect(extra.map((o) => [o.metadata?.name, o.metadata?.namespace])).toEqual([
      [`${RELEASE}-extra`, undefined],
      ['as-text', 'scim-system'],
    ]);
  });
});
