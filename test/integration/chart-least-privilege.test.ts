// Least privilege, proven on the real API server (SPEC §3): the chart's two ServiceAccounts (the
// controller's and the verifier's) and their RBAC are installed as rendered, a token is minted for
// each (TokenRequest), and each process runs out of cluster with nothing but its own token — the
// controller must issue a token and apply a rotation, the verifier must accept the token and see the
// rotation, without a single Forbidden. And no more than that: `kubectl auth can-i --list` of each
// ServiceAccount, less what a ServiceAccount without any binding may do (discovery, self-reviews:
// that part depends on the Kubernetes version, not on the chart), must equal
// test/rbac/expected-can-i.txt. The verifier may read no Secret; the controller, confined by the
// chart's ValidatingAdmissionPolicy, may write no Secret but a managed token Secret.
//
// Both install modes are covered: all namespaces (ClusterRole) and watchNamespaces (Roles). The
// operator is always started with --namespace: one running cluster-wide would reconcile the other
// test files' ScimDomains. What it would do across namespaces is read with the same token instead.
//
// To update the expected list after an intended change of the chart's RBAC:
//   SCIM_UPDATE_EXPECTED=1 npx vitest run --project integration test/integration/chart-least-privilege.test.ts
// then review `git diff test/rbac/expected-can-i.txt`: every added line is a new permission.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LeaderElector,
  leaseClient,
  recordFromLease,
  type StoppedReason,
} from '../../src/kube/leader-election.js';
import { helmBinary, kubectl, normalizeCanIList, renderText, writeTokenKubeconfig } from './support/chart.js';
import { useTestNamespace } from './support/context.js';
import { ROOT, RUN_LABEL, kubeClientOf, loadKubeConfig, waitFor } from './support/kube.js';
import { assertNoTokenLeaks } from './support/leak.js';
import { saveOutput, startOperator } from './support/operator.js';
import { Scim, secretValue } from './support/scim.js';
import { verify, verifierListening } from './support/verifier.js';

const ctx = useTestNamespace('lp');
const EXPECTED_FILE = path.join(ROOT, 'test/rbac/expected-can-i.txt');
const UPDATE = process.env.SCIM_UPDATE_EXPECTED === '1';
const FIELD_MANAGER = 'scim-chart-least-privilege-test';

let tmp: string;
/** Namespaces besides ctx.namespace: the second release's, a watched one, and one nobody watches. */
const ns = { clusterRelease: '', rolesRelease: '', watched: '', other: '' };
const outputs: string[] = [];
/** A ServiceAccount bound to nothing: what every authenticated client may do anyway. */
let nobody: Install;
const actualSections = new Map<string, string[]>();

beforeAll(async () => {
  helmBinary();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'scim-lp-'));
  ns.clusterRelease = ctx.namespace;
  ns.rolesRelease = `${ctx.namespace}-r`;
  ns.watched = `${ctx.namespace}-w`;
  ns.other = `${ctx.namespace}-o`;
  for (const name of [ns.rolesRelease, ns.watched, ns.other]) {
    await ctx.core.createNamespace({ body: { metadata: { name, labels: { [RUN_LABEL]: ctx.runId } } } });
  }
  await ctx.core.createNamespacedServiceAccount({
    namespace: ctx.namespace,
    body: { metadata: { name: 'nobody' } },
  });
  nobody = await mintKubeconfig(ctx.namespace, 'nobody');
}, 20 * 60_000);

afterAll(async () => {
  // Cluster-scoped objects outlive the namespaces: remove them by the run label.
  kubectl(ctx.kubeconfig, [
    'delete',
    'clusterrole,clusterrolebinding,validatingadmissionpolicybinding,validatingadmissionpolicy',
    '-l',
    `${RUN_LABEL}=${ctx.runId}`,
    '--ignore-not-found',
  ]);
  for (const name of [ns.rolesRelease, ns.watched, ns.other]) {
    if (name) await ctx.core.deleteNamespace({ name }).catch(() => undefined);
  }
  saveOutput(ctx.runId, 'chart-least-privilege', outputs.join('\n'));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  if (UPDATE && actualSections.size > 0) writeExpected(actualSections);
});

interface Install {
  serviceAccount: string;
  namespace: string;
  kubeconfig: string;
  /** The verifier's ServiceAccount of the same release. */
  verifier?: Install;
}

/**
 * Applies only the chart's ServiceAccount and RBAC as rendered (server-side apply), mints a token
 * for the ServiceAccount and writes a kubeconfig holding only that token.
 */
async function installRbac(release: string, namespace: string, set: string[]): Promise<Install> {
  const yaml = renderText({
    release,
    namespace,
    set: [...set, `commonLabels.${RUN_LABEL.replace(/\./g, '\\.')}=${ctx.runId}`],
    showOnly: [
      'templates/serviceaccount.yaml',
      'templates/rbac.yaml',
      'templates/leader-election-rbac.yaml',
      'templates/verifier-rbac.yaml',
      'templates/controller-secrets-policy.yaml',
    ],
  });
  const applied = kubectl(
    ctx.kubeconfig,
    // Forced: other files apply the same cluster-scoped admission policies from config/ as they are.
    ['apply', '--server-side', '--force-conflicts', `--field-manager=${FIELD_MANAGER}`, '-f', '-'],
    yaml,
  );
  expect(applied.status, applied.stderr).toBe(0);
  return {
    ...(await mintKubeconfig(namespace, `${release}-scim-token-operator`)),
    verifier: await mintKubeconfig(namespace, `${release}-scim-token-operator-verifier`),
  };
}

/** A kubeconfig that holds only a token minted for the ServiceAccount through TokenRequest. */
async function mintKubeconfig(namespace: string, serviceAccount: string): Promise<Install> {
  const minted = await ctx.core.createNamespacedServiceAccountToken({
    namespace,
    name: serviceAccount,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const token = minted.status?.token;
  if (!token) throw new Error('TokenRequest returned no token');
  const file = path.join(tmp, `${namespace}-${serviceAccount}.kubeconfig`);
  return { serviceAccount, namespace, kubeconfig: writeTokenKubeconfig(ctx.kc, token, file) };
}

function canIList(install: Install, namespace: string): string[] {
  const r = kubectl(install.kubeconfig, ['auth', 'can-i', '--list', '-n', namespace]);
  expect(r.status, r.stderr).toBe(0);
  return normalizeCanIList(r.stdout);
}

function expectedSections(): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const raw of readFileSync(EXPECTED_FILE, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const title = /^\[(.*)\]$/.exec(line)?.[1];
    if (title !== undefined) sections.set(title, (current = []));
    else current?.push(line.replace(/\s+/g, ' '));
  }
  return sections;
}

function writeExpected(sections: Map<string, string[]>): void {
  const header = [
    "# What the controller's and the verifier's ServiceAccounts may do, per install mode and namespace: the output of",
    "# `kubectl auth can-i --list -n <namespace>` run with the ServiceAccount's own token, less the",
    '# lines a ServiceAccount without any binding gets too (discovery URLs, self-reviews: those come',
    '# from the Kubernetes version, not from the chart). Normalised: header dropped, one space',
    '# between columns, lines sorted. Columns: resource, [non-resource URLs], [resource names], [verbs].',
    '# An empty section means nothing beyond what every authenticated client may do.',
    '#',
    '# Checked by test/integration/chart-least-privilege.test.ts. After an intended RBAC change:',
    '#   SCIM_UPDATE_EXPECTED=1 npx vitest run --project integration test/integration/chart-least-privilege.test.ts',
    '# and review the diff: every added line is a new permission of the operator.',
  ];
  const body = [...sections].flatMap(([title, lines]) => ['', `[${title}]`, ...lines]);
  writeFileSync(EXPECTED_FILE, [...header, ...body, ''].join('\n'));
}

function expectCanIList(install: Install, title: string, namespace: string): void {
  const baseline = canIList(nobody, namespace);
  const all = canIList(install, namespace);
  expect(all).toEqual(expect.arrayContaining(baseline));
  const actual = all.filter((line) => !baseline.includes(line));
  actualSections.set(title, actual);
  if (UPDATE) return;
  const expected = expectedSections().get(title);
  expect(expected, `no section [${title}] in test/rbac/expected-can-i.txt`).toBeDefined();
  expect(actual, `[${title}] differs from test/rbac/expected-can-i.txt`).toEqual(expected);
}

const LEADER_FLAGS = (leaseNamespace: string) => [
  '--leader-elect',
  '--leader-election-namespace',
  leaseNamespace,
  '--lease-duration',
  '4s',
  '--renew-deadline',
  '3s',
  '--retry-period',
  '500ms',
];

/**
 * Runs the controller and the verifier, each with only its own ServiceAccount's token: issue, then
 * rotate, in `namespace`; the verifier accepts the first token, then rejects it as revoked.
 */
async function issueAndRotate(install: Install, namespace: string, name: string): Promise<void> {
  const scim = new Scim(ctx, namespace);
  const operator = await startOperator({
    kubeconfig: install.kubeconfig,
    namespaces: [namespace],
    command: 'controller',
    args: LEADER_FLAGS(install.namespace),
  });
  const verifier = await startOperator({
    kubeconfig: install.verifier!.kubeconfig,
    namespaces: [namespace],
    command: 'verifier',
  });
  try {
    const url = (await verifierListening(verifier)).verifier;
    await scim.createDomain(name, { domain: `${name}-${ctx.runId}.example` });
    const issued = await scim.waitForReady(name);
    const secret = await scim.getSecret(`${name}-scim-token`);
    expect(secretValue(secret, 'token-sha256')).toBe(issued.status?.token?.sha256);
    await scim.waitForEvent(name, 'TokenIssued', namespace);
    const first = secretValue(secret, 'token')!;
    await waitFor('the verifier to accept the token', async () =>
      (await verify(url, first)).status === 200 ? true : undefined,
    );

    const rotation = await scim.createRotation(`${name}-rotate`, { domainRef: { name } });
    await scim.waitForRotation(`${name}-rotate`, { reason: 'Rotated', status: 'True' });
    const rotated = await scim.waitForReady(name, { status: 'True', reason: 'TokenIssued' }, namespace, (d) =>
      (d.status?.appliedRotations ?? []).includes(rotation.metadata.uid ?? ''),
    );
    expect(rotated.status?.token?.generation).toBe(2);
    const after = await scim.getSecret(`${name}-scim-token`);
    expect(secretValue(after, 'token-sha256')).toBe(rotated.status?.token?.sha256);
    await waitFor('the verifier to reject the rotated-away token', async () => {
      const r = await verify(url, first);
      return r.status === 401 && r.reason === 'revoked' ? true : undefined;
    });
    expect((await verify(url, secretValue(after, 'token'))).status).toBe(200);
  } finally {
    await Promise.all([operator.stop(), verifier.stop()]);
    outputs.push(operator.output(), verifier.output());
  }
  // Not one request was refused: no failed reconcile, no dropped Event, no failed watch.
  expect(operator.output()).not.toMatch(/"code":403|HTTP 403|Forbidden/);
  expect(verifier.output()).not.toMatch(/"code":403|HTTP 403|Forbidden/);
}

describe('installed for all namespaces (ClusterRole)', () => {
  let install: Install;
  beforeAll(async () => {
    install = await installRbac('cw', ns.clusterRelease, []);
  });

  it('authenticates as its ServiceAccount with only the minted token', () => {
    const r = kubectl(install.kubeconfig, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    expect(r.stdout).toBe(`system:serviceaccount:${install.namespace}:${install.serviceAccount}`);
  });

  it('may do exactly the expected list in its own namespace and in any other', () => {
    expectCanIList(install, 'all namespaces (ClusterRole), -n <release namespace>', ns.clusterRelease);
    expectCanIList(install, 'all namespaces (ClusterRole), -n <any other namespace>', ns.other);
  });

  it('gives the verifier exactly the expected list: ScimDomains, read only', () => {
    const v = install.verifier!;
    expectCanIList(v, 'verifier, all namespaces (ClusterRole), -n <release namespace>', ns.clusterRelease);
    expectCanIList(v, 'verifier, all namespaces (ClusterRole), -n <any other namespace>', ns.other);
  });

  it('refuses the verifier every Secret', () => {
    for (const args of [
      ['get', 'secrets', '--all-namespaces'],
      ['get', 'secrets', '-n', ns.clusterRelease],
      ['get', 'secret', 'anything', '-n', 'kube-system'],
    ]) {
      const r = kubectl(install.verifier!.kubeconfig, args);
      expect(r.status, args.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(/forbidden/i);
    }
  });

  it('refuses the controller, by admission policy, any Secret write but a managed token Secret', async () => {
    const saToken = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/service-account-token',
      metadata: {
        name: `scim-lp-${ctx.runId}`,
        namespace: 'kube-system',
        annotations: { 'kubernetes.io/service-account.name': 'default' },
      },
    });
    const refused = await waitFor(
      'the policy to refuse a service-account-token Secret in kube-system',
      () => {
        const r = kubectl(install.kubeconfig, ['create', '-f', '-'], saToken);
        if (r.status === 0) {
          kubectl(ctx.kubeconfig, ['delete', 'secret', '-n', 'kube-system', `scim-lp-${ctx.runId}`]);
          return undefined;
        }
        return r.stderr;
      },
    );
    expect(refused).toMatch(/scim-token-operator-controller-secrets/);
    expect(refused).toMatch(/may write only\s+Secrets of type scim\.tokens\.dev\/token/);
    expect(refused).toContain(`refused CREATE of Secret kube-system/scim-lp-${ctx.runId}`);

    // Nor an Opaque Secret, nor a token-typed one without the label, anywhere.
    for (const [type, labels] of [
      ['Opaque', { 'app.kubernetes.io/managed-by': 'scim-token-operator' }],
      ['scim.tokens.dev/token', {}],
    ] as const) {
      const r = kubectl(
        install.kubeconfig,
        ['create', '-f', '-'],
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Secret',
          type,
          metadata: { name: 'plant', namespace: ns.other, labels },
        }),
      );
      expect(r.status, `${type} ${JSON.stringify(labels)}`).not.toBe(0);
      expect(r.stderr).toMatch(/may write only/);
    }
    // A cluster admin is not confined by it.
    const admin = kubectl(ctx.kubeconfig, ['create', 'secret', 'generic', 'admin-may', '-n', ns.other]);
    expect(admin.status, admin.stderr).toBe(0);
  });

  it('runs the operator: a ScimDomain gets its token and a rotation applies, with no request refused', async () => {
    await issueAndRotate(install, ns.other, 'cw-domain');
  });

  it('lists ScimDomains, rotations and managed Secrets across all namespaces, as the operator does without --namespace', () => {
    for (const args of [
      ['get', 'scimdomains', '--all-namespaces'],
      ['get', 'scimtokenrotations', '--all-namespaces'],
      ['get', 'secrets', '--all-namespaces', '-l', 'app.kubernetes.io/managed-by=scim-token-operator'],
    ]) {
      const r = kubectl(install.kubeconfig, args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
  });
});

describe('installed for watched namespaces (a Role in each)', () => {
  let install: Install;
  beforeAll(async () => {
    install = await installRbac('ro', ns.rolesRelease, [`watchNamespaces={${ns.watched}}`]);
  });

  it('may do exactly the expected list in its own, the watched and any other namespace', () => {
    expectCanIList(install, 'watchNamespaces (Roles), -n <release namespace>', ns.rolesRelease);
    expectCanIList(install, 'watchNamespaces (Roles), -n <watched namespace>', ns.watched);
    expectCanIList(install, 'watchNamespaces (Roles), -n <any other namespace>', ns.other);
  });

  it('gives the verifier exactly the expected list: ScimDomains of the watched namespaces, read only', () => {
    const v = install.verifier!;
    expectCanIList(v, 'verifier, watchNamespaces (Roles), -n <release namespace>', ns.rolesRelease);
    expectCanIList(v, 'verifier, watchNamespaces (Roles), -n <watched namespace>', ns.watched);
    expectCanIList(v, 'verifier, watchNamespaces (Roles), -n <any other namespace>', ns.other);
  });

  it('runs the operator: a ScimDomain gets its token and a rotation applies, with no request refused', async () => {
    await issueAndRotate(install, ns.watched, 'ro-domain');
  });

  it('is refused Secrets and ScimDomains outside the watched namespaces', () => {
    for (const args of [
      ['get', 'secrets', '-n', ns.other],
      ['get', 'scimdomains', '-n', ns.other],
      ['get', 'secrets', '--all-namespaces'],
    ]) {
      const r = kubectl(install.kubeconfig, args);
      expect(r.status, args.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(/Forbidden|forbidden/);
    }
  });

  it('elects a leader on the Lease, renews and releases it with only that token', async () => {
    const kc = loadKubeConfig(install.kubeconfig);
    const stopped: StoppedReason[] = [];
    let leading = false;
    const elector = new LeaderElector({
      client: leaseClient(kubeClientOf(kc)),
      namespace: install.namespace,
      identity: 'least-privilege-check',
      leaseDurationMs: 4_000,
      renewDeadlineMs: 3_000,
      retryPeriodMs: 300,
      onStartedLeading: () => {
        leading = true;
      },
      onStoppedLeading: (reason) => stopped.push(reason),
      log: { info: () => undefined, warn: () => undefined, debug: () => undefined, error: () => undefined },
    });
    void elector.run();
    await waitFor('the elector to lead', () => (leading ? true : undefined));
    const lease = () =>
      leaseClient(kubeClientOf(ctx.kc)).read(install.namespace, elector.lease.split('/')[1]!);
    const first = recordFromLease((await lease())!);
    await waitFor('a renewal', async () => {
      const r = recordFromLease((await lease())!);
      return r.renewTime && first.renewTime && r.renewTime > first.renewTime ? true : undefined;
    });
    await elector.release();
    expect(stopped).toEqual(['released']);
    expect(recordFromLease((await lease())!)).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
  });
});

describe('what the operator saw and wrote', () => {
  it('contains none of the tokens it issued', async () => {
    await assertNoTokenLeaks(ctx, [ns.other, ns.watched], outputs);
  });
});
