// What kstatus (Flux's health checks, kpt, cli-utils) reads for every ScimDomain and
// ScimTokenRotation state: each state is produced on the real API server by the real operator, read
// back, and run through the kstatus library itself (test/kstatus). The expected results are the rows
// of the table in docs/gitops.md, so the documentation cannot drift from what kstatus computes.
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RbacAuthorizationV1Api, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestNamespace } from './support/context.js';
import { GROUP, ROOT, RUN_LABEL, waitFor } from './support/kube.js';
import { kstatus, kstatusBinary } from './support/kstatus.js';
import { assertNoTokenLeaks } from './support/leak.js';
import { saveOutput, startOperator, type OperatorProcess } from './support/operator.js';
import { Scim } from './support/scim.js';
import { grantRole, serviceAccountUser } from './support/users.js';

const ctx = useTestNamespace('kst');
let scim: Scim;
let operator: OperatorProcess;
let refusedNs: string;
const unique = (base: string) => `${base}-${ctx.runId}.example`;

/** docs/gitops.md's kstatus table: `kind|state` → the kstatus result it documents. */
function documentedTable(): Map<string, string> {
  const doc = readFileSync(path.join(ROOT, 'docs/gitops.md'), 'utf8');
  const start = doc.indexOf('<!-- kstatus-table');
  if (start < 0) throw new Error('docs/gitops.md has lost its kstatus table marker');
  const rows = new Map<string, string>();
  for (const line of doc.slice(start).split('\n').slice(1)) {
    if (line.trim() === '') {
      if (rows.size > 0) break;
      continue;
    }
    const cells = line.split('|').map((c) => c.trim());
    const [, kind, state, , result] = cells;
    if (!kind || !state || !result || kind === 'kind' || kind.startsWith('-')) continue;
    rows.set(`${kind}|${state}`, result.replace(/[`¹²³\s]/g, ''));
  }
  return rows;
}

const table = documentedTable();
const covered = new Set<string>();

/** Runs kstatus on the object and expects the documented result for that state. */
function expectDocumented(kind: 'ScimDomain' | 'ScimTokenRotation', state: string, obj: KubernetesObject) {
  const key = `${kind}|${state}`;
  const want = table.get(key);
  expect(want, `docs/gitops.md documents "${state}" for ${kind}`).toBeDefined();
  const [got] = kstatus([obj]);
  expect(got, `kstatus of ${kind} in state "${state}"`).toMatchObject({ kind, status: want });
  covered.add(key);
}

const OPERATOR_RULES = [
  { apiGroups: [GROUP], resources: ['scimdomains', 'scimtokenrotations'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [GROUP], resources: ['scimtokenrotations'], verbs: ['delete'] },
  { apiGroups: [GROUP], resources: ['scimdomains/status', 'scimtokenrotations/status'], verbs: ['update'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create'] },
];

beforeAll(async () => {
  scim = new Scim(ctx, ctx.namespace);
  kstatusBinary();
  // The operator runs as a ServiceAccount that may write Secrets in the test namespace but not in a
  // second one: there, a domain's first write is refused, as by a quota or an admission policy.
  refusedNs = `${ctx.namespace}-r`;
  await ctx.core.createNamespace({
    body: { metadata: { name: refusedNs, labels: { [RUN_LABEL]: ctx.runId } } },
  });
  const user = await serviceAccountUser(ctx, ctx.namespace, 'kstatus-operator');
  await grantRole(ctx, ctx.namespace, user, 'operator', [
    ...OPERATOR_RULES,
    {
      apiGroups: [''],
      resources: ['secrets'],
      verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'],
    },
  ]);
  // grantRole binds a ServiceAccount of the Role's own namespace; this one lives in the test namespace.
  const rbac = ctx.kc.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({
    namespace: refusedNs,
    body: {
      metadata: { name: 'operator-without-secret-writes' },
      rules: [
        ...OPERATOR_RULES,
        { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] },
      ],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace: refusedNs,
    body: {
      metadata: { name: 'operator-without-secret-writes' },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Role',
        name: 'operator-without-secret-writes',
      },
      subjects: [{ kind: 'ServiceAccount', name: user.name, namespace: ctx.namespace }],
    },
  });
  const kubeconfig = path.join(os.tmpdir(), `scim-${ctx.namespace}.kubeconfig.json`);
  writeFileSync(kubeconfig, user.kc.exportConfig(), { mode: 0o600 });
  operator = await startOperator({
    kubeconfig,
    namespaces: [ctx.namespace, refusedNs],
    args: ['--rotation-grace', '8s'],
  });
});

afterAll(async () => {
  if (operator) {
    await operator.stop();
    saveOutput(ctx.runId, 'kstatus', operator.output());
  }
  if (refusedNs) await ctx.core.deleteNamespace({ name: refusedNs }).catch(() => undefined);
});

describe('kstatus reads each ScimDomain state as docs/gitops.md says', () => {
  it('Ready', async () => {
    await scim.createDomain('ready', { domain: unique('ready') });
    expectDocumented('ScimDomain', 'Ready', await scim.waitForReady('ready'));
  });

  it('suspended: Current, while the Ready condition says Suspended', async () => {
    await scim.createDomain('paused', { domain: unique('paused') });
    await scim.waitForReady('paused');
    await scim.patchDomainSpec('paused', { suspend: true });
    const d = await scim.waitForReady('paused', { status: 'True', reason: 'Suspended' });
    expect(d.status?.token).toBeUndefined();
    expectDocumented('ScimDomain', 'suspended', d);
  });

  it('conflicting: the domain is claimed elsewhere', async () => {
    // The older claim wins (in the same second, the names decide: "first" still wins).
    await scim.createDomain('first', { domain: unique('shared') });
    await scim.waitForReady('first');
    await scim.createDomain('second', { domain: unique('shared') });
    const d = await scim.waitForReady('second', { status: 'False', reason: 'DomainConflict' });
    expectDocumented('ScimDomain', 'conflicting: the domain is claimed elsewhere', d);
  });

  it('conflicting: a foreign Secret of that name', async () => {
    await ctx.core.createNamespacedSecret({
      namespace: ctx.namespace,
      body: { metadata: { name: 'foreign-scim-token' }, stringData: { note: 'not the operator’s' } },
    });
    await scim.createDomain('foreign', { domain: unique('foreign') });
    const d = await scim.waitForReady('foreign', { status: 'False', reason: 'SecretConflict' });
    expectDocumented('ScimDomain', 'conflicting: a foreign Secret of that name', d);
  });

  it('issuing, a refused write being retried', async () => {
    await scim.createDomain('refused', { domain: unique('refused') }, refusedNs);
    const d = await waitFor('Reconciling=True ApiError on a domain whose Secret is refused', async () => {
      const got = await scim.getDomain('refused', refusedNs);
      const c = got.status?.conditions?.find((x) => x.type === 'Reconciling');
      return c?.status === 'True' && c.reason === 'ApiError' ? got : undefined;
    });
    expectDocumented('ScimDomain', 'issuing, a refused write being retried', d);
  });
});

describe('kstatus reads each ScimTokenRotation state as docs/gitops.md says', () => {
  it('rotated', async () => {
    await scim.createRotation('ready-now', { domainRef: { name: 'ready' } });
    const r = await scim.waitForRotation('ready-now', { reason: 'Rotated', status: 'True' });
    expectDocumented('ScimTokenRotation', 'rotated', r);
  });

  it('waiting for its domain', async () => {
    await scim.createRotation('early', { domainRef: { name: 'not-yet' } });
    const r = await scim.waitForRotation('early', { reason: 'DomainNotFound', status: 'False' });
    expectDocumented('ScimTokenRotation', 'waiting for its domain', r);
  });

  it('stalled: its domain never became Ready', async () => {
    await scim.createRotation('too-late', { domainRef: { name: 'never' } });
    const r = await scim.waitForRotation('too-late', { reason: 'DomainNotFound', stalled: true });
    expectDocumented('ScimTokenRotation', 'stalled: its domain never became Ready', r);
  });

  it('scheduled', async () => {
    await scim.createRotation('monthly', { domainRef: { name: 'ready' }, schedule: '@monthly' });
    const r = await scim.waitForRotation(
      'monthly',
      { reason: 'Scheduled', status: 'True' },
      { check: (x) => x.status?.nextScheduleTime !== undefined },
    );
    expectDocumented('ScimTokenRotation', 'scheduled', r);
  });

  it('schedule suspended', async () => {
    await scim.createRotation('paused-schedule', {
      domainRef: { name: 'ready' },
      schedule: '@monthly',
      suspend: true,
    });
    const r = await scim.waitForRotation('paused-schedule', { reason: 'Scheduled', status: 'True' });
    expect(r.status?.conditions?.find((c) => c.type === 'Ready')?.message).toContain('suspended');
    expectDocumented('ScimTokenRotation', 'schedule suspended', r);
  });

  it('overlap in progress (rotation and domain)', async () => {
    await scim.createDomain('overlapping', { domain: unique('overlapping') });
    await scim.waitForReady('overlapping');
    await scim.createRotation('overlap-1h', { domainRef: { name: 'overlapping' }, overlap: '1h' });
    const r = await scim.waitForRotation('overlap-1h', { reason: 'Rotated', status: 'True' });
    expectDocumented('ScimTokenRotation', 'overlap in progress', r);
    const d = await scim.waitForReady(
      'overlapping',
      undefined,
      undefined,
      (x) => x.status?.previousToken !== undefined,
    );
    expectDocumented('ScimDomain', 'overlap in progress', d);
  });

  it('invalid schedule or time zone', async () => {
    await scim.createRotation('bad-zone', {
      domainRef: { name: 'ready' },
      schedule: '@daily',
      timeZone: 'Mars/Olympus',
    });
    const r = await scim.waitForRotation('bad-zone', { reason: 'InvalidSpec', stalled: true });
    expectDocumented('ScimTokenRotation', 'invalid schedule or time zone', r);
  });
});

describe('with the operator stopped', () => {
  it('edited, not acted on yet: InProgress until observedGeneration catches up', async () => {
    expect(await operator.stop()).toBe(0);
    const edited = await scim.patchDomainSpec('ready', { sendEmailInvitations: false });
    expect(edited.status?.observedGeneration).toBeLessThan(edited.metadata.generation ?? 0);
    expectDocumented('ScimDomain', 'edited, not acted on yet', edited);
  });

  it('not seen by the operator yet: Current, the kstatus limit the docs warn about', async () => {
    const d = await scim.createDomain('unseen', { domain: unique('unseen') });
    expect(d.status).toBeUndefined();
    expectDocumented('ScimDomain', 'not seen by the operator yet', d);
  });

  it('covers every row of the table', () => {
    expect([...table.keys()].filter((k) => !covered.has(k))).toEqual([]);
  });
});

describe('secrecy', () => {
  it('leaves no token in the operator output, Events or statuses of this file', async () => {
    await assertNoTokenLeaks(ctx, [ctx.namespace, refusedNs], [operator.output()]);
  });
});
