// The Helm chart (SPEC §3, §5): one source for the CRDs, the user roles and the admission policy;
// `helm lint` clean; values validated by values.schema.json; the Deployment's flags understood by the
// operator; the operator's RBAC exactly what it uses; and every rendering accepted by the real API
// server (`kubectl apply --dry-run=server`); and the Dockerfile lint-clean. Running the operator with that RBAC is in
// chart-least-privilege.test.ts; the user roles and the policy at work are in rotation-authz.test.ts.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { validate as lintDockerfile } from 'dockerfile-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { DEFAULT_LEASE_NAME } from '../../src/kube/leader-election.js';
import {
  CHART_DIR,
  helmBinary,
  helmTemplateArgs,
  kubectl,
  ofKind,
  render,
  renderText,
  rulesOf,
  run,
  type Obj,
  type PolicyRule,
} from './support/chart.js';
import { useTestNamespace } from './support/context.js';
import { ROOT, RUN_LABEL, readManifests } from './support/kube.js';

const ctx = useTestNamespace('chart');
const RELEASE = 'scim';
const FULLNAME = `${RELEASE}-scim-token-operator`;

beforeAll(() => {
  helmBinary(); // built once (minutes) when the cache is cold
}, 20 * 60_000);

/** The operator's rules, in the order the chart writes them (see templates/_helpers.tpl). */
const OPERATOR_RULES: PolicyRule[] = [
  {
    apiGroups: ['scim.tokens.dev'],
    resources: ['scimdomains', 'scimtokenrotations'],
    verbs: ['get', 'list', 'watch'],
  },
  { apiGroups: ['scim.tokens.dev'], resources: ['scimtokenrotations'], verbs: ['delete'] },
  {
    apiGroups: ['scim.tokens.dev'],
    resources: ['scimdomains/status', 'scimtokenrotations/status'],
    verbs: ['update'],
  },
  { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create'] },
];

const LEASE_RULES: PolicyRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  {
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    resourceNames: [DEFAULT_LEASE_NAME],
    verbs: ['get', 'update'],
  },
];

function named(objects: Obj[], kind: string, name: string, namespace?: string): Obj {
  const found = objects.find(
    (o) =>
      o.kind === kind &&
      o.metadata?.name === name &&
      (namespace === undefined || o.metadata?.namespace === namespace),
  );
  if (!found) throw new Error(`no ${kind} ${namespace ? `${namespace}/` : ''}${name} in the rendering`);
  return found;
}

interface Container {
  args: string[];
  ports: { name: string; containerPort: number }[];
  securityContext: Record<string, unknown>;
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  startupProbe?: { httpGet: { path: string; port: string } };
}

function operatorContainer(
  objects: Obj[],
  name = FULLNAME,
): { pod: Record<string, unknown>; container: Container } {
  const deployment = named(objects, 'Deployment', name) as Obj & {
    spec: { template: { spec: Record<string, unknown> & { containers: Container[] } } };
  };
  const container = deployment.spec.template.spec.containers[0];
  if (!container) throw new Error('the Deployment has no container');
  return { pod: deployment.spec.template.spec, container };
}

function filesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
}

describe('one source', () => {
  it("ships the repository's crds/ byte for byte", () => {
    const chartCrds = path.join(CHART_DIR, 'files/crds');
    const repoCrds = path.join(ROOT, 'crds');
    expect(filesIn(chartCrds)).toEqual(filesIn(repoCrds));
    for (const f of filesIn(repoCrds)) {
      expect(
        readFileSync(path.join(chartCrds, f), 'utf8'),
        `charts/scim-token-operator/files/crds/${f} differs from crds/${f}: run charts/scim-token-operator/sync-files.sh`,
      ).toBe(readFileSync(path.join(repoCrds, f), 'utf8'));
    }
  });

  it('has no crds/ folder, which helm upgrade would never upgrade', () => {
    expect(readdirSync(CHART_DIR)).not.toContain('crds');
  });

  it('renders the CRDs as templates, as they are, adding labels and the keep policy', () => {
    const rendered = ofKind(
      render({ release: RELEASE, namespace: 'scim-system' }),
      'CustomResourceDefinition',
    );
    const sources = readManifests(path.join(ROOT, 'crds')) as Obj[];
    expect(rendered.map((o) => o.metadata?.name).sort()).toEqual(sources.map((o) => o.metadata?.name).sort());
    for (const source of sources) {
      const out = named(rendered, 'CustomResourceDefinition', source.metadata!.name!);
      const strip = (o: Obj) => ({
        ...o,
        metadata: { ...o.metadata, labels: undefined, annotations: undefined },
      });
      expect(strip(out)).toEqual(strip(source));
      expect(out.metadata?.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'Helm' });
      expect(out.metadata?.annotations).toEqual({
        ...source.metadata?.annotations,
        'helm.sh/resource-policy': 'keep',
      });
    }
  });

  it.each([
    ['crds.keep=false', 2, undefined],
    ['crds.enabled=false', 0, undefined],
  ])('renders the CRDs with %s: %d of them, without the keep policy', (set, count, policy) => {
    const crds = ofKind(render({ release: RELEASE, namespace: 'x', set: [set] }), 'CustomResourceDefinition');
    expect(crds).toHaveLength(count);
    for (const crd of crds) expect(crd.metadata?.annotations?.['helm.sh/resource-policy']).toBe(policy);
  });

  it.each([
    ['config/rbac/user-roles.yaml', 'files/user-roles.yaml'],
    ['config/admission/rotation-policy.yaml', 'files/rotation-policy.yaml'],
    ['config/admission/token-secret-policy.yaml', 'files/token-secret-policy.yaml'],
    ['config/admission/domain-policy.yaml', 'files/domain-policy.yaml'],
    ['config/admission/requested-by-policy.yaml', 'files/requested-by-policy.yaml'],
    ['config/admission/controller-secrets-policy.yaml', 'files/controller-secrets-policy.yaml'],
  ])('renders %s from a byte-identical copy', (source, copy) => {
    expect(
      readFileSync(path.join(CHART_DIR, copy), 'utf8'),
      `charts/scim-token-operator/${copy} differs from ${source}: run charts/scim-token-operator/sync-files.sh`,
    ).toBe(readFileSync(path.join(ROOT, source), 'utf8'));
  });

  it.each([['config/rbac'], ['config/admission']])(
    'renders the objects of %s as they are, adding only labels',
    (dir) => {
      const rendered = render({ release: RELEASE, namespace: 'scim-system' });
      // The parameters (params.yaml) are the chart's own, from values: see the next test.
      const sources = (readManifests(path.join(ROOT, dir)) as Obj[]).filter(
        (o) => o.kind !== 'Namespace' && o.kind !== 'ConfigMap',
      );
      for (const source of sources) {
        const out = named(rendered, source.kind!, source.metadata!.name!);
        const strip = (o: Obj) => ({ ...o, metadata: { ...o.metadata, labels: undefined } });
        const spec = source.spec as { paramRef?: object } | undefined;
        const expected = spec?.paramRef
          ? { ...source, spec: { ...spec, paramRef: { ...spec.paramRef, namespace: 'scim-system' } } }
          : source;
        expect(strip(out)).toEqual(strip(expected));
        expect(out.metadata?.labels).toMatchObject(source.metadata?.labels ?? {});
        expect(out.metadata?.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'Helm' });
      }
    },
  );

  it('names this release as the operator in the admission parameters, with the rules from values', () => {
    const rendered = render({
      release: RELEASE,
      namespace: 'scim-system',
      set: ['admissionPolicy.unannotatedNamespaces=deny'],
    });
    const params = named(rendered, 'ConfigMap', 'scim-token-operator-admission', 'scim-system') as Obj & {
      data: Record<string, string>;
    };
    const source = (readManifests(path.join(ROOT, 'config/admission/params.yaml')) as Obj[]).find(
      (o) => o.kind === 'ConfigMap',
    ) as Obj & { data: Record<string, string> };
    expect(Object.keys(params.data).sort()).toEqual(Object.keys(source.data).sort());
    expect(params.data).toEqual({
      operators: `system:serviceaccount:scim-system:${FULLNAME}`,
      controllers: source.data.controllers,
      unannotatedNamespaces: 'deny',
    });
  });

  it('can leave the cluster-scoped user roles and admission policy to another release', () => {
    const kinds = render({
      release: RELEASE,
      namespace: 'scim-system',
      set: ['userRoles.create=false', 'admissionPolicy.create=false'],
    }).map((o) => `${o.kind}/${o.metadata?.name}`);
    expect(kinds.filter((k) => /scim-token-operator-(view|edit|admin|rotate)$/.test(k))).toEqual([]);
  });
});

describe('helm lint', () => {
  it.each([
    ['the default values', []],
    ['watched namespaces', ['watchNamespaces={team-a,team-b}']],
    [
      'TLS from a Secret, a ServiceMonitor, one replica',
      ['verifier.tls.secretName=verifier-tls', 'metrics.serviceMonitor.enabled=true', 'replicaCount=1'],
    ],
    [
      'alerts, a NetworkPolicy, no CRDs and every escape hatch',
      [
        'prometheusRule.enabled=true',
        'networkPolicy.enabled=true',
        'crds.enabled=false',
        'extraVolumes[0].name=extra',
        'extraVolumes[0].emptyDir.medium=Memory',
        'extraVolumeMounts[0].name=extra',
        'extraVolumeMounts[0].mountPath=/extra',
        'extraObjects[0].apiVersion=v1',
        'extraObjects[0].kind=ConfigMap',
        'extraObjects[0].metadata.name=extra',
      ],
    ],
    ['leader election off', ['leaderElection.enabled=false']],
  ])('is clean with %s', (_what, set: string[]) => {
    const r = run(helmBinary(), ['lint', '--strict', CHART_DIR, ...set.flatMap((s) => ['--set', s])]);
    expect(r.stdout + r.stderr).not.toMatch(/\[(WARNING|ERROR)\]/);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});

describe('values.schema.json', () => {
  it.each([
    ['a misspelt top-level value', ['replicaCuont=3'], /additional properties 'replicaCuont' not allowed/],
    ['replicas as text', ['replicaCount=two'], /replicaCount.*want integer/],
    ['zero replicas', ['replicaCount=0'], /replicaCount/],
    ['a namespace that is not a DNS label', ['watchNamespaces={Team_A}'], /watchNamespaces\/0/],
    ['a bare number as a duration', ['leaderElection.leaseDuration=fifteen'], /leaseDuration/],
    ['an unknown log level', ['logLevel=verbose'], /logLevel/],
    ['a port out of range', ['verifier.port=70000'], /verifier\/port/],
    ['crds.keep as text', ['crds.keep=maybe'], /crds\/keep/],
    [
      'an alert that does not exist',
      ['prometheusRule.disabled={ScimTokenTooOld}'],
      /prometheusRule\/disabled/,
    ],
    ['a misspelt NetworkPolicy value', ['networkPolicy.verifier.namespaces={a}'], /namespaces/],
    ['zero verifier replicas', ['verifier.replicaCount=0'], /verifier\/replicaCount/],
    ['a staleness bound that is not a duration', ['verifier.maxStaleness=soon'], /verifier\/maxStaleness/],
    ['a misspelt verifier TLS option', ['verifier.tls.certmanager.issuerRef.name=x'], /certmanager/],
    [
      'a grace period shorter than the shutdown',
      ['terminationGracePeriodSeconds=10'],
      /terminationGracePeriodSeconds/,
    ],
  ])('rejects %s', (_what, set, message) => {
    const r = run(helmBinary(), helmTemplateArgs({ release: RELEASE, namespace: 'scim-system', set }));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });
});

describe('the Deployment', () => {
  const objects = () => render({ release: RELEASE, namespace: 'scim-system' });

  it('runs two replicas with leader election in the release namespace', () => {
    const rendered = objects();
    const deployment = named(rendered, 'Deployment', FULLNAME) as Obj & { spec: { replicas: number } };
    expect(deployment.spec.replicas).toBe(2);
    const config = parseConfig(operatorContainer(rendered).container.args, {});
    expect(config.mode).toBe('controller');
    expect(config.leaderElection).toEqual({
      enabled: true,
      namespace: 'scim-system',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    });
    expect(config.namespaces).toEqual([]);
    expect(config.metricsAddress.port).toBe(8080);
  });

  it('passes flags the operator accepts, whatever the values (TLS, namespaces, extra args)', () => {
    const rendered = render({
      release: RELEASE,
      namespace: 'scim-system',
      set: [
        'watchNamespaces={team-a,team-b}',
        'verifier.tls.secretName=verifier-tls',
        'logLevel=debug',
        'extraArgs={--workers=8}',
        'verifier.extraArgs={--log-level=warn}',
      ],
    });
    const config = parseConfig(operatorContainer(rendered).container.args, {});
    expect(config.namespaces).toEqual(['team-a', 'team-b']);
    expect(config.logLevel).toBe('debug');
    expect(config.workers).toBe(8);
    const verifierConfig = parseConfig(
      operatorContainer(rendered, `${FULLNAME}-verifier`).container.args,
      {},
    );
    expect(verifierConfig.mode).toBe('verifier');
    expect(verifierConfig.namespaces).toEqual(['team-a', 'team-b']);
    expect(verifierConfig.verifier.tls).toEqual({
      certFile: '/etc/scim-token-operator/tls/tls.crt',
      keyFile: '/etc/scim-token-operator/tls/tls.key',
    });
    expect(verifierConfig.logLevel).toBe('warn');
  });

  it('probes /healthz and /readyz on the metrics port, and serves no verify port', () => {
    const { container } = operatorContainer(objects());
    expect(container.ports).toEqual([{ name: 'metrics', containerPort: 8080, protocol: 'TCP' }]);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(container.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
  });

  it('runs as non-root with a read-only root filesystem, no capabilities, RuntimeDefault seccomp and bounded resources', () => {
    const { pod, container } = operatorContainer(objects());
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    // docs/benchmarks.md, "Cost curve": 132 MB settled with 10,000 domains, 248 MB with 30,000.
    expect(container.resources.requests).toEqual({ cpu: '100m', memory: '160Mi' });
    expect(container.resources.limits).toEqual({ cpu: '1000m', memory: '320Mi' });
  });

  it('spreads the replicas over zones and nodes and keeps one through voluntary disruptions', () => {
    const rendered = objects();
    const { pod } = operatorContainer(rendered);
    const selector = {
      'app.kubernetes.io/name': 'scim-token-operator',
      'app.kubernetes.io/instance': RELEASE,
      'app.kubernetes.io/component': 'controller',
    };
    expect(pod.topologySpreadConstraints).toEqual([
      expect.objectContaining({
        topologyKey: 'topology.kubernetes.io/zone',
        labelSelector: { matchLabels: selector },
      }),
      expect.objectContaining({
        topologyKey: 'kubernetes.io/hostname',
        labelSelector: { matchLabels: selector },
      }),
    ]);
    const pdb = named(rendered, 'PodDisruptionBudget', FULLNAME) as Obj & { spec: Record<string, unknown> };
    expect(pdb.spec).toMatchObject({ minAvailable: 1, selector: { matchLabels: selector } });
    expect(
      ofKind(
        render({ release: RELEASE, namespace: 'x', set: ['replicaCount=1', 'verifier.replicaCount=1'] }),
        'PodDisruptionBudget',
      ),
    ).toEqual([]);
  });

  it('is reached through a verifier Service on 8443 and a metrics Service on 8080, and a ServiceMonitor on request', () => {
    const rendered = objects();
    const port = (name: string) =>
      (named(rendered, 'Service', name) as Obj & { spec: { ports: unknown[] } }).spec.ports;
    expect(port(`${FULLNAME}-verifier`)).toEqual([
      { name: 'verify', port: 8443, targetPort: 'verify', protocol: 'TCP', appProtocol: 'https' },
    ]);
    expect(port(`${FULLNAME}-metrics`)).toEqual([
      { name: 'metrics', port: 8080, targetPort: 'metrics', protocol: 'TCP', appProtocol: 'http' },
    ]);
    expect(ofKind(rendered, 'ServiceMonitor')).toEqual([]);
    const monitored = render({
      release: RELEASE,
      namespace: 'x',
      set: ['metrics.serviceMonitor.enabled=true'],
      apiVersions: ['monitoring.coreos.com/v1/ServiceMonitor'],
    });
    expect(named(monitored, 'ServiceMonitor', FULLNAME).spec).toMatchObject({
      endpoints: [{ port: 'metrics', path: '/metrics', honorLabels: true }],
    });
  });
});

describe('the verifier Deployment', () => {
  const VERIFIER = `${FULLNAME}-verifier`;
  const selector = {
    'app.kubernetes.io/name': 'scim-token-operator',
    'app.kubernetes.io/instance': RELEASE,
    'app.kubernetes.io/component': 'verifier',
  };
  const tlsObjects = (set: string[]) =>
    render({ release: RELEASE, namespace: 'scim-system', set })
      .filter((o) => ['Secret', 'ConfigMap', 'Certificate'].includes(o.kind ?? ''))
      .filter((o) => o.metadata?.name?.startsWith(VERIFIER))
      .map((o) => `${o.kind}/${o.metadata?.name}`)
      .sort();

  it('runs `scim-token-operator verifier` under its own ServiceAccount, which may only read ScimDomains', () => {
    const rendered = render({ release: RELEASE, namespace: 'scim-system' });
    const { pod, container } = operatorContainer(rendered, VERIFIER);
    const config = parseConfig(container.args, {});
    expect(config.mode).toBe('verifier');
    expect(config.verifier).toMatchObject({
      address: { host: '', port: 8443 },
      maxStalenessMs: 120_000,
      maxConnections: 20_000,
      drainPeriodMs: 10_000,
    });
    expect(pod.serviceAccountName).toBe(VERIFIER);
    expect(rulesOf(named(rendered, 'ClusterRole', `${VERIFIER}-scim-system`))).toEqual([
      { apiGroups: ['scim.tokens.dev'], resources: ['scimdomains'], verbs: ['get', 'list', 'watch'] },
    ]);
    expect(named(rendered, 'ClusterRoleBinding', `${VERIFIER}-scim-system`)).toMatchObject({
      subjects: [{ kind: 'ServiceAccount', name: VERIFIER, namespace: 'scim-system' }],
    });
    const watched = render({ release: RELEASE, namespace: 'scim-system', set: ['watchNamespaces={team-a}'] });
    expect(rulesOf(named(watched, 'Role', VERIFIER, 'team-a'))).toEqual([
      { apiGroups: ['scim.tokens.dev'], resources: ['scimdomains'], verbs: ['get', 'list', 'watch'] },
    ]);
  });

  it('is what the verifier Service selects, spread, kept through disruptions and optionally autoscaled', () => {
    const rendered = render({ release: RELEASE, namespace: 'scim-system' });
    const deployment = named(rendered, 'Deployment', VERIFIER) as Obj & {
      spec: { replicas?: number; selector: { matchLabels: Record<string, string> } };
    };
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.selector.matchLabels).toEqual(selector);
    expect(
      (named(rendered, 'Service', VERIFIER) as Obj & { spec: { selector: unknown } }).spec.selector,
    ).toEqual(selector);
    const { pod, container } = operatorContainer(rendered, VERIFIER);
    expect(container.ports).toEqual([
      { name: 'verify', containerPort: 8443, protocol: 'TCP' },
      { name: 'metrics', containerPort: 8080, protocol: 'TCP' },
    ]);
    expect(pod.topologySpreadConstraints).toEqual([
      expect.objectContaining({ labelSelector: { matchLabels: selector } }),
      expect.objectContaining({ labelSelector: { matchLabels: selector } }),
    ]);
    expect((named(rendered, 'PodDisruptionBudget', VERIFIER) as Obj & { spec: unknown }).spec).toMatchObject({
      minAvailable: 1,
      selector: { matchLabels: selector },
    });
    expect(ofKind(rendered, 'HorizontalPodAutoscaler')).toEqual([]);
    const scaled = render({ release: RELEASE, namespace: 'x', set: ['verifier.autoscaling.enabled=true'] });
    expect(
      (named(scaled, 'Deployment', VERIFIER) as Obj & { spec: { replicas?: number } }).spec.replicas,
    ).toBe(undefined);
    expect(named(scaled, 'HorizontalPodAutoscaler', VERIFIER).spec).toMatchObject({
      scaleTargetRef: { kind: 'Deployment', name: VERIFIER },
      minReplicas: 2,
      metrics: [{ type: 'Resource', resource: { name: 'cpu' } }],
    });
  });

  it('drains: a preStop sleep, then --drain-period, within the grace period', () => {
    const { pod, container } = operatorContainer(render({ release: RELEASE, namespace: 'x' }), VERIFIER);
    const preStop = (container as unknown as { lifecycle: { preStop: { sleep: { seconds: number } } } })
      .lifecycle.preStop.sleep.seconds;
    const drainMs = parseConfig(container.args, {}).verifier.drainPeriodMs;
    expect(preStop).toBe(5);
    // The verifier closes within 5 s after the drain period (server.ts CLOSE_GRACE_MS).
    expect((preStop * 1000 + drainMs + 5_000) / 1000).toBeLessThanOrEqual(
      pod.terminationGracePeriodSeconds as number,
    );
  });

  it.each([
    [
      'by default a CA kept by the chart, published in a ConfigMap',
      [],
      [`ConfigMap/${VERIFIER}-ca`, `Secret/${VERIFIER}-ca`, `Secret/${VERIFIER}-tls`],
    ],
    ['from cert-manager', ['verifier.tls.certManager.issuerRef.name=ca-issuer'], [`Certificate/${VERIFIER}`]],
    ['from your own Secret', ['verifier.tls.secretName=mine'], []],
    ['self-signed per replica when asked', ['verifier.tls.generate=false'], []],
  ])('takes its certificate %s', (_what, set: string[], objects: string[]) => {
    expect(tlsObjects(set)).toEqual(objects);
    const { container } = operatorContainer(render({ release: RELEASE, namespace: 'x', set }), VERIFIER);
    const tls = parseConfig(container.args, {}).verifier.tls;
    expect(tls === undefined).toBe(set.includes('verifier.tls.generate=false'));
  });

  it('issues the certificate for the Service DNS names', () => {
    const cert = named(
      render({
        release: RELEASE,
        namespace: 'scim-system',
        set: ['verifier.tls.certManager.issuerRef.name=ca'],
      }),
      'Certificate',
      VERIFIER,
    ) as Obj & { spec: { dnsNames: string[]; secretName: string; issuerRef: unknown } };
    expect(cert.spec.dnsNames).toEqual([
      VERIFIER,
      `${VERIFIER}.scim-system`,
      `${VERIFIER}.scim-system.svc`,
      `${VERIFIER}.scim-system.svc.cluster.local`,
    ]);
    expect(cert.spec.secretName).toBe(`${VERIFIER}-tls`);
    expect(cert.spec.issuerRef).toEqual({ name: 'ca', kind: 'Issuer', group: 'cert-manager.io' });
  });
});

describe("the operator's RBAC", () => {
  it('is one ClusterRole with exactly the rules the operator uses, bound to its ServiceAccount', () => {
    const rendered = render({ release: RELEASE, namespace: 'scim-system' });
    const role = named(rendered, 'ClusterRole', `${FULLNAME}-scim-system`);
    expect(rulesOf(role)).toEqual(OPERATOR_RULES);
    expect(named(rendered, 'ClusterRoleBinding', `${FULLNAME}-scim-system`)).toMatchObject({
      roleRef: { kind: 'ClusterRole', name: `${FULLNAME}-scim-system` },
      subjects: [{ kind: 'ServiceAccount', name: FULLNAME, namespace: 'scim-system' }],
    });
    expect(ofKind(rendered, 'ServiceAccount').map((o) => o.metadata?.name)).toEqual([
      FULLNAME,
      `${FULLNAME}-verifier`,
    ]);
  });

  it('is a Role per watched namespace, and nothing cluster-wide, when watchNamespaces is set', () => {
    const rendered = render({
      release: RELEASE,
      namespace: 'scim-system',
      set: ['watchNamespaces={team-a,team-b}'],
    });
    for (const ns of ['team-a', 'team-b']) {
      expect(rulesOf(named(rendered, 'Role', FULLNAME, ns))).toEqual(OPERATOR_RULES);
      expect(named(rendered, 'RoleBinding', FULLNAME, ns)).toMatchObject({
        roleRef: { kind: 'Role', name: FULLNAME },
        subjects: [{ kind: 'ServiceAccount', name: FULLNAME, namespace: 'scim-system' }],
      });
    }
    const clusterWide = [...ofKind(rendered, 'ClusterRole'), ...ofKind(rendered, 'ClusterRoleBinding')];
    expect(clusterWide.map((o) => o.metadata?.name).filter((n) => n?.startsWith(FULLNAME))).toEqual([]);
  });

  it('may create Leases in its namespace and read or renew only the leader-election Lease', () => {
    const rendered = render({ release: RELEASE, namespace: 'scim-system' });
    expect(rulesOf(named(rendered, 'Role', `${FULLNAME}-leader-election`, 'scim-system'))).toEqual(
      LEASE_RULES,
    );
    const without = render({
      release: RELEASE,
      namespace: 'scim-system',
      set: ['leaderElection.enabled=false'],
    });
    expect(ofKind(without, 'Role')).toEqual([]);
  });

  it.each([
    ['all namespaces', []],
    ['watched namespaces', ['watchNamespaces={team-a}']],
  ])('has no wildcard verb, resource or API group anywhere (%s)', (_what, set: string[]) => {
    const rendered = render({ release: RELEASE, namespace: 'scim-system', set });
    const roles = [...ofKind(rendered, 'ClusterRole'), ...ofKind(rendered, 'Role')];
    expect(roles.length).toBeGreaterThan(0);
    for (const role of roles) {
      for (const rule of rulesOf(role)) {
        const fields = [...rule.verbs, ...(rule.resources ?? []), ...(rule.apiGroups ?? [])];
        expect(
          fields.filter((f) => f.includes('*')),
          `${role.kind}/${role.metadata?.name}`,
        ).toEqual([]);
      }
    }
  });
});

describe('the user roles', () => {
  const roles = () => readManifests(path.join(ROOT, 'config/rbac')) as Obj[];
  const granted = (name: string) =>
    rulesOf(roles().find((r) => r.metadata?.name === name)!).flatMap((r) =>
      (r.resources ?? []).flatMap((res) => r.verbs.map((v) => `${v} ${res}`)),
    );

  it.each([
    ['view', 'scim-token-operator-view'],
    ['edit', 'scim-token-operator-edit'],
    ['admin', 'scim-token-operator-admin'],
  ])('aggregate into the built-in %s role', (builtIn, name) => {
    const role = roles().find((r) => r.metadata?.name === name);
    expect(role?.metadata?.labels?.[`rbac.authorization.k8s.io/aggregate-to-${builtIn}`]).toBe('true');
  });

  it('never grant anything on Secrets', () => {
    for (const role of roles()) {
      expect(rulesOf(role).flatMap((r) => r.resources ?? [])).not.toContain('secrets');
    }
  });

  it('let view read, edit change domains, and only admin rotate and create rotations', () => {
    expect(granted('scim-token-operator-view').sort()).toEqual(
      ['get', 'list', 'watch'].flatMap((v) => [`${v} scimdomains`, `${v} scimtokenrotations`]).sort(),
    );
    expect(granted('scim-token-operator-edit')).toEqual(
      expect.arrayContaining([
        'create scimdomains',
        'update scimdomains',
        'patch scimdomains',
        'delete scimdomains',
      ]),
    );
    expect(granted('scim-token-operator-edit')).not.toContain('create scimtokenrotations');
    expect(granted('scim-token-operator-edit')).not.toContain('rotate scimdomains');
    expect(granted('scim-token-operator-admin')).toEqual(
      expect.arrayContaining([
        'rotate scimdomains',
        'create scimtokenrotations',
        'delete scimtokenrotations',
      ]),
    );
  });
});

describe('on the API server', () => {
  it.each([
    ['the default values, with the CRDs', []],
    [
      'watched namespaces, TLS from a Secret, leader election tuned, no CRDs, a NetworkPolicy, extra objects',
      [
        'watchNamespaces={NS}',
        'verifier.tls.secretName=verifier-tls',
        'leaderElection.leaseDuration=30s',
        'crds.enabled=false',
        'networkPolicy.enabled=true',
        'networkPolicy.verifier.namespaceSelectors[0].matchLabels.team=a',
        'extraVolumes[0].name=extra',
        'extraVolumes[0].emptyDir.medium=Memory',
        'extraVolumeMounts[0].name=extra',
        'extraVolumeMounts[0].mountPath=/extra',
        'extraObjects[0].apiVersion=v1',
        'extraObjects[0].kind=ConfigMap',
        'extraObjects[0].metadata.name=extra',
      ],
    ],
  ])(
    'accepts every object of the rendering (kubectl apply --dry-run=server) with %s',
    (_what, set: string[]) => {
      const yaml = renderText({
        release: RELEASE,
        namespace: ctx.namespace,
        set: [
          ...set.map((s) => s.replace('NS', ctx.namespace)),
          `commonLabels.${RUN_LABEL.replace(/\./g, '\\.')}=${ctx.runId}`,
        ],
      });
      const r = kubectl(ctx.kubeconfig, ['apply', '--dry-run=server', '-f', '-'], yaml);
      expect(r.stderr.replace(/^Warning: .*last-applied-configuration.*\n?/gm, '')).toBe('');
      expect(r.status).toBe(0);
      const applied = r.stdout.trim().split('\n');
      expect(applied.every((l) => l.endsWith('(server dry run)'))).toBe(true);
      expect(applied.some((l) => l.startsWith('deployment.apps/'))).toBe(true);
      expect(applied.some((l) => l.startsWith('validatingadmissionpolicy.'))).toBe(true);
    },
  );
});

describe('the Dockerfile', () => {
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

  it('lints clean (dockerfile-utils: errors and warnings)', () => {
    const problems = lintDockerfile(dockerfile).map(
      (d) => `line ${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`,
    );
    expect(problems).toEqual([]);
  });

  it('runs the compiled entry point as a numeric non-root user, without npm or dev dependencies', () => {
    expect(finalStage).toMatch(/^USER 1000:1000$/m);
    expect(finalStage).toMatch(/^ENTRYPOINT \["node", "--max-semi-space-size=1", "dist\/src\/main.js"\]$/m);
    expect(finalStage).not.toMatch(/^RUN npm/m);
    expect(finalStage).toMatch(/rm -rf \/usr\/local\/lib\/node_modules\/npm/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    for (const label of ['title', 'description', 'licenses', 'version', 'revision', 'created']) {
      expect(finalStage).toContain(`org.opencontainers.image.${label}=`);
    }
  });
});
