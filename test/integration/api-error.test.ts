// A write the API server refuses shows on the domain (kstatus Reconciling / Ready=False ApiError)
// while the operator retries, and clears once the write goes through.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestNamespace } from './support/context.js';
import { GROUP, waitFor } from './support/kube.js';
import { assertNoTokenLeaks } from './support/leak.js';
import { saveOutput, startOperator, type OperatorProcess } from './support/operator.js';
import { Scim } from './support/scim.js';
import { grantRole, serviceAccountUser } from './support/users.js';

const ctx = useTestNamespace('apierr');
let scim: Scim;
let operator: OperatorProcess;

beforeAll(async () => {
  scim = new Scim(ctx, ctx.namespace);
  const user = await serviceAccountUser(ctx, ctx.namespace, 'operator-without-secret-writes');
  await grantRole(ctx, ctx.namespace, user, 'almost-enough', [
    { apiGroups: [GROUP], resources: ['scimdomains', 'scimtokenrotations'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [GROUP], resources: ['scimdomains/status', 'scimtokenrotations/status'], verbs: ['update'] },
    { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [''], resources: ['events'], verbs: ['create'] },
  ]);
  const file = path.join(os.tmpdir(), `scim-${ctx.namespace}.kubeconfig.json`);
  writeFileSync(file, user.kc.exportConfig(), { mode: 0o600 });
  operator = await startOperator({ kubeconfig: file, namespaces: [ctx.namespace] });
});

afterAll(async () => {
  await operator?.stop();
  if (operator) saveOutput(ctx.runId, 'api-error', operator.output());
});

describe('a write the API server refuses', () => {
  it('is reported as Reconciling=True and Ready=False with reason ApiError, naming the HTTP status', async () => {
    await scim.createDomain('denied', { domain: `denied-${ctx.runId}.example` });
    const d = await scim.waitForReady('denied', { status: 'False', reason: 'ApiError' });
    const reconciling = d.status?.conditions?.find((c) => c.type === 'Reconciling');
    expect(reconciling).toMatchObject({ status: 'True', reason: 'ApiError' });
    expect(reconciling?.message).toMatch(/HTTP 403/);
    expect(d.status?.token).toBeUndefined();
  });

  it('clears once the operator may write, and the token is issued', async () => {
    const rbac = ctx.kc.makeApiClient(RbacAuthorizationV1Api);
    const role = await rbac.readNamespacedRole({ namespace: ctx.namespace, name: 'almost-enough' });
    (role.rules ??= []).push({
      apiGroups: [''],
      resources: ['secrets'],
      verbs: ['create', 'update', 'delete'],
    });
    await rbac.replaceNamespacedRole({ namespace: ctx.namespace, name: 'almost-enough', body: role });
    await scim.waitForReady('denied', { status: 'True', reason: 'TokenIssued' });
    // The reconcile after the one that wrote everything finds nothing to do and drops the report.
    const d = await waitFor('the ApiError report to be cleared', async () => {
      const now = await scim.getDomain('denied');
      return now.status?.conditions?.some((c) => c.type === 'Reconciling') ? undefined : now;
    });
    expect(d.status?.conditions?.map((c) => c.type)).toEqual(['Ready']);
    expect(d.status?.conditions?.[0]).toMatchObject({ status: 'True', reason: 'TokenIssued' });
  }, 90_000);

  it('leaves no token in the output, Events or statuses', async () => {
    await operator.stop();
    await assertNoTokenLeaks(ctx, [ctx.namespace], [operator.output()]);
  });
});
