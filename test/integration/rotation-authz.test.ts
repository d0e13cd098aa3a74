// Only admins rotate (SPEC §2.2, §3): the ValidatingAdmissionPolicy and the aggregated roles from
// config/, checked with real ServiceAccount credentials on the real API server.
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestNamespace } from './support/context.js';
import { GROUP, VERSION, apiError, applyManifests, waitFor } from './support/kube.js';
import { Scim } from './support/scim.js';
import { bind, grantRole, serviceAccountUser, type TestUser } from './support/users.js';

const ctx = useTestNamespace('authz');

beforeAll(async () => {
  // Only the rotation policy: the others bind cluster-wide with parameters naming the operator, and
  // this API server is shared with the other test files (hostile-editor.test.ts binds them to its
  // own namespaces).
  await applyManifests(ctx.objects, ['config/rbac', 'config/admission/rotation-policy.yaml']);
  // A ScimDomain to aim at (no operator needed: admission looks only at the request).
  const scim = new Scim(ctx, ctx.namespace);
  for (const name of ['alpha', 'beta'])
    await scim.createDomain(name, { domain: `${name}-${ctx.runId}.example` });
});

let n = 0;
async function createRotation(user: TestUser, domain: string): Promise<void> {
  await user.custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: ctx.namespace,
    plural: 'scimtokenrotations',
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'ScimTokenRotation',
      metadata: { name: `${user.name}-${domain}-${n++}` },
      spec: { domainRef: { name: domain } },
    },
  });
}

async function denial(action: () => Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await action();
  } catch (err) {
    return apiError(err);
  }
  throw new Error('the request was allowed');
}

const createRotations = {
  apiGroups: [GROUP],
  resources: ['scimtokenrotations'],
  verbs: ['create', 'get', 'list'],
};

describe('creating a ScimTokenRotation', () => {
  it('is denied to a user who may create rotations but lacks rotate on the domain, naming the verb and the domain', async () => {
    const user = await serviceAccountUser(ctx, ctx.namespace, 'creator');
    await grantRole(ctx, ctx.namespace, user, 'rotation-creator', [createRotations]);
    const { code, message } = await waitFor('the role to take effect and admission to deny', async () => {
      const d = await denial(() => createRotation(user, 'alpha'));
      return d.code === 403 && /rotate/.test(d.message) ? d : undefined;
    });
    expect(code).toBe(403);
    expect(message).toContain('"rotate" verb on scimdomains/alpha');
    expect(message).toContain(`namespace ${ctx.namespace}`);
    expect(message).toContain(user.username);
  });

  it('is allowed with rotate on that domain by name, and denied for another domain', async () => {
    const user = await serviceAccountUser(ctx, ctx.namespace, 'alpha-admin');
    await grantRole(ctx, ctx.namespace, user, 'alpha-rotator', [
      createRotations,
      { apiGroups: [GROUP], resources: ['scimdomains'], verbs: ['rotate'], resourceNames: ['alpha'] },
    ]);
    await waitFor('rotate on alpha to be allowed', async () => {
      await createRotation(user, 'alpha');
      return true;
    });
    const { code, message } = await denial(() => createRotation(user, 'beta'));
    expect(code).toBe(403);
    expect(message).toContain('"rotate" verb on scimdomains/beta');
  });

  it('is allowed through the built-in admin role, which aggregates scim-token-operator-admin', async () => {
    const rbac = ctx.kc.makeApiClient(RbacAuthorizationV1Api);
    await waitFor('the admin role to aggregate the rotate verb', async () => {
      const admin = await rbac.readClusterRole({ name: 'admin' });
      return admin.rules?.some((r) => r.verbs.includes('rotate') && r.resources?.includes('scimdomains'))
        ? true
        : undefined;
    });
    const user = await serviceAccountUser(ctx, ctx.namespace, 'ns-admin');
    await bind(ctx, ctx.namespace, user, 'admin', 'ClusterRole');
    await waitFor('the admin to be allowed', async () => {
      await createRotation(user, 'beta');
      return true;
    });
  });

  it('is denied through the built-in edit role (edit manages domains but does not rotate)', async () => {
    const user = await serviceAccountUser(ctx, ctx.namespace, 'ns-editor');
    await bind(ctx, ctx.namespace, user, 'edit', 'ClusterRole');
    const { code, message } = await waitFor('the editor to be denied by admission', async () => {
      const d = await denial(() => createRotation(user, 'alpha'));
      return d.code === 403 ? d : undefined;
    });
    expect(code).toBe(403);
    expect(message).toMatch(/scimtokenrotations.* is forbidden|"rotate" verb on scimdomains\/alpha/);
  });
});
