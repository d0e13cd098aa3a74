// A user with the namespace `edit` role is an adversary (SPEC §2.3, §3). Each attack below is made
// with a ServiceAccount's own token, bound to the built-in `edit` (or `admin`) role, on the real API
// server, twice: in a namespace where the admission policies of config/admission are bound — the
// attempt is refused with a message that names what to ask for — and in one where none is, where
// the controller keeps the guarantee by itself. What is asserted is what users see: the verifier's
// answers, the Secret, the domain's status and Events.
import { randomBytes } from 'node:crypto';
import {
  AdmissionregistrationV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1Secret,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONTROLLERS, renderAdmission } from '../../scripts/admission.js';
import type { ScimDomain } from '../../src/api/types.js';
import { generateToken, tokenSha256 } from '../../src/rules/token.js';
import { useTestNamespace } from './support/context.js';
import {
  GROUP,
  RUN_LABEL,
  VERSION,
  apiError,
  applyManifests,
  applyObjects,
  waitFor,
} from './support/kube.js';
import { assertNoTokenLeaks } from './support/leak.js';
import { saveOutput, startOperator, type OperatorProcess } from './support/operator.js';
import { Scim, secretValue, seenTokens } from './support/scim.js';
import { bind, grantRole, serviceAccountUser, type TestUser } from './support/users.js';
import { verify, verifierListening } from './support/verifier.js';

const ctx = useTestNamespace('hostile');
const outputs: string[] = [];
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
/** The namespace with the policies bound (ctx.namespace) and the one without. */
const ns = { guarded: '', open: '' };
type Mode = keyof typeof ns;
const people: Record<Mode, { editor: TestUser; admin: TestUser }> = {} as never;
let operator: OperatorProcess;
let url: string;
let n = 0;
const unique = (base: string) => `${base}-${n++}`;

async function startTheOperator(): Promise<void> {
  operator = await startOperator({ kubeconfig: ctx.kubeconfig, namespaces: [ns.guarded, ns.open] });
  url = (await verifierListening(operator)).verifier;
}

async function stopTheOperator(): Promise<void> {
  await operator.stop();
  outputs.push(operator.output());
}

/** The policies of config/admission, bound to the guarded namespace only (this API server is shared). */
async function bindPolicies(unannotatedNamespaces: 'allow' | 'deny' = 'allow'): Promise<void> {
  await applyObjects(
    ctx.objects,
    renderAdmission({
      // The test operator runs as the cluster's admin user; this control plane's
      // kube-controller-manager (garbage collector, namespace controller) as scim-kcm.
      operators: ['scim-admin'],
      controllers: ['scim-kcm', ...DEFAULT_CONTROLLERS],
      unannotatedNamespaces,
      scopeNamespace: ns.guarded,
    }),
  );
}

beforeAll(async () => {
  ns.guarded = ctx.namespace;
  ns.open = `${ctx.namespace}-open`;
  await ctx.core.createNamespace({
    body: { metadata: { name: ns.open, labels: { [RUN_LABEL]: ctx.runId } } },
  });
  await applyManifests(ctx.objects, ['config/rbac']);
  await bindPolicies();
  for (const mode of ['guarded', 'open'] as const) {
    const editor = await serviceAccountUser(ctx, ns[mode], 'editor');
    await bind(ctx, ns[mode], editor, 'edit', 'ClusterRole');
    const admin = await serviceAccountUser(ctx, ns[mode], 'admin');
    await bind(ctx, ns[mode], admin, 'admin', 'ClusterRole');
    people[mode] = { editor, admin };
  }
  await startTheOperator();
  // Policies and bindings reach admission within a second or so: wait until one refuses.
  const scim = new Scim(ctx, ns.guarded);
  await scim.createDomain('probe', { domain: `probe-${ctx.runId}.example` });
  await scim.waitForReady('probe');
  await waitFor('the admission policies to be in force', async () => {
    const d = await denial(() =>
      patchSecret(people.guarded.editor, 'guarded', 'probe-scim-token', { immutable: true }),
    );
    return d.code === 403 ? true : undefined;
  });
});

afterAll(async () => {
  if (operator) {
    await stopTheOperator();
    saveOutput(ctx.runId, 'hostile-editor', outputs.join('\n'));
  }
  // The bindings are cluster-scoped; the policies themselves are shared with every other user.
  const admission = ctx.kc.makeApiClient(AdmissionregistrationV1Api);
  for (const o of renderAdmission({ operators: [], scopeNamespace: ns.guarded })) {
    if (o.kind === 'ValidatingAdmissionPolicyBinding')
      await admission
        .deleteValidatingAdmissionPolicyBinding({ name: o.metadata!.name! })
        .catch(() => undefined);
  }
  await assertNoTokenLeaks(ctx, [ns.guarded, ns.open], outputs);
  await ctx.core.deleteNamespace({ name: ns.open }).catch(() => undefined);
});

// ---------------------------------------------------------------------------------------------------

async function denial(action: () => Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await action();
  } catch (err) {
    return apiError(err);
  }
  return { code: 0, message: 'allowed' };
}

function patchSecret(user: TestUser, mode: Mode, name: string, body: object): Promise<V1Secret> {
  return user.core.patchNamespacedSecret({ namespace: ns[mode], name, body }, mergePatch);
}

function patchDomain(user: TestUser, mode: Mode, name: string, spec: object): Promise<unknown> {
  return user.custom.patchNamespacedCustomObject(
    { group: GROUP, version: VERSION, namespace: ns[mode], plural: 'scimdomains', name, body: { spec } },
    mergePatch,
  );
}

interface Issued {
  scim: Scim;
  name: string;
  secretName: string;
  token: string;
  domain: ScimDomain;
}

/** A new ScimDomain in that namespace, issued a token; the token read as a cluster admin. */
async function issued(mode: Mode, base: string, spec: object = {}): Promise<Issued> {
  const scim = new Scim(ctx, ns[mode]);
  const name = unique(base);
  await scim.createDomain(name, { domain: `${name}-${ctx.runId}.example`, ...spec });
  const domain = await scim.waitForReady(name);
  const secretName = `${name}-scim-token`;
  const token = secretValue(await scim.getSecret(secretName), 'token')!;
  expect((await verify(url, token)).status).toBe(200);
  return { scim, name, secretName, token, domain };
}

const status = async (token: string) => (await verify(url, token)).status;

/** The token now in the Secret, once it differs from `old` and verifies. */
async function freshToken(d: Issued, old: string): Promise<string> {
  return waitFor(`a fresh token for ${d.name} that verifies`, async () => {
    const t = secretValue(await d.scim.getSecret(d.secretName), 'token');
    return t && t !== old && (await status(t)) === 200 ? t : undefined;
  });
}

async function rotateAsAdmin(mode: Mode, d: Issued): Promise<void> {
  const rotation = unique(`${d.name}-rot`);
  await people[mode].admin.custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: ns[mode],
    plural: 'scimtokenrotations',
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'ScimTokenRotation',
      metadata: { name: rotation },
      spec: { domainRef: { name: d.name }, reason: 'test' },
    },
  });
  await d.scim.waitForRotation(rotation, { reason: 'Rotated' });
}

// ---------------------------------------------------------------------------------------------------

describe('making the token Secret immutable', () => {
  it('is refused where the policies are bound, naming the rotation to ask for; the admin rotation completes', async () => {
    const d = await issued('guarded', 'immutable');

    const { code, message } = await denial(() =>
      patchSecret(people.guarded.editor, 'guarded', d.secretName, { immutable: true }),
    );

    expect(code).toBe(403);
    expect(message).toContain('only the operator may change it');
    expect(message).toContain(`"rotate" verb on scimdomains/${d.name}`);
    await rotateAsAdmin('guarded', d);
    await freshToken(d, d.token);
    expect(await status(d.token)).toBe(401);
  });

  it('does not stop an admin rotation where no policy is bound: the Secret is replaced, the old token dies', async () => {
    const d = await issued('open', 'immutable');
    await patchSecret(people.open.editor, 'open', d.secretName, { immutable: true });

    await rotateAsAdmin('open', d);

    expect(await status(d.token)).toBe(401);
    await freshToken(d, d.token);
    expect((await d.scim.getSecret(d.secretName))?.immutable).not.toBe(true);
  });
});

describe('planting a token with the generation bumped', () => {
  const plant = async (mode: Mode, d: Issued) => {
    const planted = generateToken((k) => randomBytes(k));
    seenTokens.add(planted);
    const secret = (await d.scim.getSecret(d.secretName))!;
    const generation = Number(secret.metadata?.annotations?.['scim.tokens.dev/token-generation'] ?? '1');
    const write = () =>
      patchSecret(people[mode].editor, mode, d.secretName, {
        metadata: {
          annotations: {
            'scim.tokens.dev/token-generation': String(generation + 1),
            'scim.tokens.dev/issue-cause': 'Rotated',
            'scim.tokens.dev/rotation-uid': 'forged-rotation',
            'scim.tokens.dev/rotation-name': 'forged',
          },
        },
        stringData: { token: planted, 'token-sha256': tokenSha256(planted), 'token-id': 'tok-0000000000' },
      });
    return { planted, write };
  };

  it('is refused where the policies are bound; the planted token never verifies', async () => {
    const d = await issued('guarded', 'plant');
    const { planted, write } = await plant('guarded', d);

    const { code, message } = await denial(write);

    expect(code).toBe(403);
    expect(message).toContain('create a ScimTokenRotation');
    expect(await status(planted)).toBe(401);
    expect(await status(d.token)).toBe(200);
  });

  it('is treated as tampering where no policy is bound: revoked, reissued, the planted token never verifies', async () => {
    const d = await issued('open', 'plant');
    const { planted, write } = await plant('open', d);

    await write();

    expect(await status(planted)).toBe(401);
    const fresh = await freshToken(d, planted);
    expect(fresh).not.toBe(d.token);
    expect(await status(planted)).toBe(401);
    expect(await status(d.token)).toBe(401);
    const after = await d.scim.getDomain(d.name);
    expect(after.status?.revokedTokens?.[0]).toMatchObject({
      id: d.domain.status?.token?.id,
      reason: 'SecretTampered',
    });
    expect(after.status?.appliedRotations ?? []).not.toContain('forged-rotation');
    expect(after.status?.lastRotation?.name).not.toBe('forged');
    await d.scim.waitForEvent(d.name, 'SecretTampered');
  });
});

describe('deleting the token Secret', () => {
  it('is refused to an editor where the policies are bound, naming the rotate verb; an admin may', async () => {
    const d = await issued('guarded', 'delete');

    const { code, message } = await denial(() =>
      people.guarded.editor.core.deleteNamespacedSecret({ namespace: ns.guarded, name: d.secretName }),
    );

    expect(code).toBe(403);
    expect(message).toContain(`requires the "rotate" verb on scimdomains/${d.name}`);
    expect(await status(d.token)).toBe(200);
    await people.guarded.admin.core.deleteNamespacedSecret({ namespace: ns.guarded, name: d.secretName });
    await freshToken(d, d.token);
    expect(await status(d.token)).toBe(401);
  });

  it('revokes the token and issues a fresh one where no policy is bound (SecretLost, never resurrected)', async () => {
    const d = await issued('open', 'delete');

    await people.open.editor.core.deleteNamespacedSecret({ namespace: ns.open, name: d.secretName });

    await freshToken(d, d.token);
    expect(await status(d.token)).toBe(401);
    expect((await d.scim.getDomain(d.name)).status?.revokedTokens?.[0]).toMatchObject({
      reason: 'SecretLost',
    });
    await d.scim.waitForEvent(d.name, 'SecretLost');
  });
});

describe('suspending and unsuspending before the operator saw the suspension', () => {
  it('never lets the suspended token verify again, with or without the policies', async () => {
    const guarded = await issued('guarded', 'flip');
    const open = await issued('open', 'flip');
    // A leader failover, or a long queue: nobody reconciles while the editors act.
    await stopTheOperator();

    const editorFlip = await denial(() =>
      patchDomain(people.guarded.editor, 'guarded', guarded.name, { suspend: true }),
    );
    expect(editorFlip.code).toBe(403);
    expect(editorFlip.message).toContain(`"rotate" verb on scimdomains/${guarded.name}`);
    await patchDomain(people.guarded.admin, 'guarded', guarded.name, { suspend: true });
    const early = await denial(() =>
      patchDomain(people.guarded.admin, 'guarded', guarded.name, { suspend: false }),
    );
    expect(early.code).toBe(403);
    expect(early.message).toContain('cannot be unsuspended yet');

    await patchDomain(people.open.editor, 'open', open.name, { suspend: true });
    await patchDomain(people.open.editor, 'open', open.name, { suspend: false });

    await startTheOperator();
    // From the first answer of the restarted verifier on, the token revoked by the suspension is dead.
    expect(await status(open.token)).toBe(401);
    await freshToken(open, open.token);
    expect(await status(open.token)).toBe(401);
    expect((await open.scim.getDomain(open.name)).status?.revokedTokens?.[0]).toMatchObject({
      id: open.domain.status?.token?.id,
      reason: 'Suspended',
    });

    expect(await status(guarded.token)).toBe(401);
    await guarded.scim.waitForReady(guarded.name, { status: 'True', reason: 'Suspended' });
    await patchDomain(people.guarded.admin, 'guarded', guarded.name, { suspend: false });
    await freshToken(guarded, guarded.token);
    expect(await status(guarded.token)).toBe(401);
  });
});

describe('re-timing a schedule', () => {
  it('needs rotate: a user who may update rotations but not rotate is refused, naming the verb', async () => {
    const d = await issued('guarded', 'sched');
    const scheduler = await serviceAccountUser(ctx, ns.guarded, 'scheduler');
    await grantRole(ctx, ns.guarded, scheduler, 'rotation-updater', [
      { apiGroups: [GROUP], resources: ['scimtokenrotations'], verbs: ['get', 'list', 'update', 'patch'] },
    ]);
    const rotation = unique('monthly');
    await d.scim.createRotation(rotation, { domainRef: { name: d.name }, schedule: '@monthly' });
    const patch = (body: object) =>
      scheduler.custom.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          namespace: ns.guarded,
          plural: 'scimtokenrotations',
          name: rotation,
          body,
        },
        mergePatch,
      );

    const { code, message } = await waitFor('the role to apply and admission to refuse', async () => {
      const r = await denial(() => patch({ spec: { schedule: '* * * * *' } }));
      return r.code === 403 && r.message.includes('rotate') ? r : undefined;
    });

    expect(code).toBe(403);
    expect(message).toContain(`changing the spec of ScimTokenRotation ${rotation}`);
    expect(message).toContain(`"rotate" verb on scimdomains/${d.name}`);
    // Metadata stays open to whoever may update (labels for GitOps tools and the like).
    await patch({ metadata: { labels: { team: 'a' } } });
    expect((await d.scim.getRotation(rotation)).spec.schedule).toBe('@monthly');
  });
});

describe('a domain conflict loser', () => {
  it('holds no token, and is issued a fresh one (never its old one) when the owner goes', async () => {
    // A loser that had a token: claims created in the same second tie on creationTimestamp and the
    // namespace decides (guarded < open), so the open one, issued first, loses once the other exists.
    let loser: Issued | undefined;
    let winner = '';
    for (let attempt = 0; attempt < 5 && !loser; attempt++) {
      while (Date.now() % 1000 > 150) await new Promise((r) => setTimeout(r, 5));
      const candidate = await issued('open', 'tie');
      winner = unique('tie-owner');
      const owner = await new Scim(ctx, ns.guarded).createDomain(winner, {
        domain: candidate.domain.spec.domain,
      });
      if (String(owner.metadata.creationTimestamp) === String(candidate.domain.metadata.creationTimestamp))
        loser = candidate;
      else await new Scim(ctx, ns.guarded).deleteDomain(winner);
    }
    expect(loser, 'two claims created within one second').toBeDefined();
    const l = loser!;

    await l.scim.waitForReady(l.name, { status: 'False', reason: 'DomainConflict' });
    expect(await status(l.token)).toBe(401);
    expect(secretValue(await l.scim.getSecret(l.secretName), 'token')).toBeUndefined();
    expect((await l.scim.getDomain(l.name)).status?.revokedTokens?.[0]).toMatchObject({
      reason: 'DomainConflict',
    });

    await new Scim(ctx, ns.guarded).deleteDomain(winner);
    await freshToken(l, l.token);
    expect(await status(l.token)).toBe(401);
  });
});

describe('a Secret write the API server refuses', () => {
  it('still revokes at once, reports why without quoting a token, and delivers once the refusal ends', async () => {
    const d = await issued('open', 'refused');
    // A policy (a cluster admin's, or a misconfigured one) that refuses the operator's Secret writes
    // and quotes the token it was sent back in its message.
    const name = `hostile-quote-${ns.open}`;
    await applyObjects(ctx.objects, [
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicy',
        metadata: { name },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: {
            resourceRules: [
              {
                apiGroups: [''],
                apiVersions: ['v1'],
                operations: ['UPDATE', 'CREATE'],
                resources: ['secrets'],
              },
            ],
          },
          validations: [
            {
              expression: `object.metadata.name != '${d.secretName}'`,
              reason: 'Forbidden',
              messageExpression: `'refused; it held ' + (has(object.data) && 'token' in object.data ? string(object.data.token) : 'nothing')`,
            },
          ],
        },
      },
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicyBinding',
        metadata: { name },
        spec: {
          policyName: name,
          validationActions: ['Deny'],
          matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns.open } } },
        },
      },
    ] as never);
    await waitFor('the refusing policy to be in force', async () => {
      const r = await denial(() =>
        ctx.core.patchNamespacedSecret(
          { namespace: ns.open, name: d.secretName, body: { metadata: { labels: { probe: String(n++) } } } },
          mergePatch,
        ),
      );
      return r.code === 403 && r.message.includes('refused') ? true : undefined;
    });
    const rotation = unique('refused-rot');

    await d.scim.createRotation(rotation, { domainRef: { name: d.name } });

    await waitFor('the old token to be refused', async () =>
      (await status(d.token)) === 401 ? true : undefined,
    );
    const stuck = await d.scim.waitForReady(d.name, { status: 'False', reason: 'ApiError' });
    const ready = stuck.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.message).toContain('denied request');
    expect(ready?.message).toContain('sct_[REDACTED]');
    expect(stuck.status?.revokedTokens?.[0]).toMatchObject({ reason: 'Rotated' });

    const admission = ctx.kc.makeApiClient(AdmissionregistrationV1Api);
    await admission.deleteValidatingAdmissionPolicyBinding({ name });
    await admission.deleteValidatingAdmissionPolicy({ name });
    await freshToken(d, d.token);
    await d.scim.waitForRotation(rotation, { reason: 'Rotated' });
    expect(await status(d.token)).toBe(401);
  });
});

describe('reveal once', () => {
  it('leaves no plaintext anywhere, last-applied-configuration included, where no policy is bound', async () => {
    const d = await issued('open', 'reveal', { revealOnce: true });
    // What `kubectl apply` of the Secret would leave behind: the whole object in an annotation.
    await patchSecret(people.open.editor, 'open', d.secretName, {
      metadata: {
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({
            stringData: { token: d.token },
          }),
        },
      },
    });
    await patchSecret(people.open.editor, 'open', d.secretName, {
      metadata: { annotations: { 'scim.tokens.dev/revealed': 'true' } },
    });

    const scrubbed = await waitFor('the plaintext to leave the Secret', async () => {
      const s = await d.scim.getSecret(d.secretName);
      return s && secretValue(s, 'token') === undefined ? s : undefined;
    });

    expect(JSON.stringify(scrubbed)).not.toContain(d.token);
    expect(await status(d.token)).toBe(200);
  });

  it('lets an editor mark the token revealed, and nothing else, where the policies are bound', async () => {
    const d = await issued('guarded', 'reveal', { revealOnce: true });

    const other = await denial(() =>
      patchSecret(people.guarded.editor, 'guarded', d.secretName, {
        metadata: { annotations: { 'scim.tokens.dev/revealed': 'true', note: 'x' } },
      }),
    );
    expect(other.code).toBe(403);
    expect(other.message).toContain('scim.tokens.dev/revealed');
    await patchSecret(people.guarded.editor, 'guarded', d.secretName, {
      metadata: { annotations: { 'scim.tokens.dev/revealed': 'true' } },
    });

    await waitFor('the plaintext to leave the Secret', async () =>
      secretValue(await d.scim.getSecret(d.secretName), 'token') === undefined ? true : undefined,
    );
    expect(await status(d.token)).toBe(200);
  });
});

describe('domains bound to namespaces', () => {
  it('lets a namespace claim only the domains its annotation lists, and says which annotation to ask for', async () => {
    await ctx.core.patchNamespace(
      {
        name: ns.guarded,
        body: {
          metadata: {
            annotations: {
              'scim.tokens.dev/allowed-domains': `tenant-${ctx.runId}.example, *.tenant-${ctx.runId}.example`,
            },
          },
        },
      },
      mergePatch,
    );
    const create = (domain: string) =>
      people.guarded.editor.custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: ns.guarded,
        plural: 'scimdomains',
        body: {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: 'ScimDomain',
          metadata: { name: unique('bound') },
          spec: { domain },
        },
      });

    const other = await waitFor('the annotation to be read', async () => {
      const r = await denial(() => create(`other-${ctx.runId}.example`));
      return r.code === 403 ? r : undefined;
    });
    expect(other.message).toContain('scim.tokens.dev/allowed-domains');
    expect(other.message).toContain('ask a cluster admin');
    await create(`tenant-${ctx.runId}.example`);
    await create(`eu.tenant-${ctx.runId}.example`);
    // "*.suffix" is subdomains only, and a suffix is not a substring match.
    expect((await denial(() => create(`xtenant-${ctx.runId}.example`))).code).toBe(403);
  });

  it('refuses unannotated namespaces any domain when the cluster says so', async () => {
    await ctx.core.patchNamespace(
      { name: ns.guarded, body: { metadata: { annotations: { 'scim.tokens.dev/allowed-domains': null } } } },
      mergePatch,
    );
    await bindPolicies('deny');
    try {
      const r = await waitFor('the parameter to apply', async () => {
        const d = await denial(() =>
          new Scim(ctx, ns.guarded).createDomain(unique('unbound'), {
            domain: `unbound-${ctx.runId}.example`,
          }),
        );
        return d.code === 403 ? d : undefined;
      });
      expect(r.message).toContain('has no scim.tokens.dev/allowed-domains annotation');
    } finally {
      await bindPolicies('allow');
    }
  });
});

describe('who asked for a rotation', () => {
  it('is stamped by the API server and shows in the rotation, the domain and the Events', async () => {
    const d = await issued('guarded', 'asked');
    const name = unique('asked-rot');
    const admin = people.guarded.admin;

    await admin.custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns.guarded,
      plural: 'scimtokenrotations',
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'ScimTokenRotation',
        metadata: { name },
        spec: { domainRef: { name: d.name } },
      },
    });

    const r = await d.scim.waitForRotation(name, { reason: 'Rotated' });
    expect(r.metadata.annotations?.['scim.tokens.dev/requested-by']).toBe(admin.username);
    expect(r.status?.requestedBy).toBe(admin.username);
    expect((await d.scim.getDomain(d.name)).status?.lastRotation).toMatchObject({
      name,
      requestedBy: admin.username,
    });
    const event = await d.scim.waitForEvent(name, 'TokenRotated');
    expect(event.message).toContain(`requested by ${admin.username}`);
  });

  it('refuses a value supplied or changed by the user, naming the annotation', async () => {
    const d = await issued('guarded', 'forged');
    const admin = people.guarded.admin;
    const body = (name: string, requestedBy: string) => ({
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'ScimTokenRotation',
      metadata: { name, annotations: { 'scim.tokens.dev/requested-by': requestedBy } },
      spec: { domainRef: { name: d.name }, schedule: '@monthly' },
    });
    const create = (name: string, requestedBy: string) =>
      admin.custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: ns.guarded,
        plural: 'scimtokenrotations',
        body: body(name, requestedBy),
      });

    const forged = await denial(() => create(unique('forged'), 'someone-else'));
    expect(forged.code).toBe(403);
    expect(forged.message).toContain('scim.tokens.dev/requested-by');

    const honest = unique('honest');
    await create(honest, admin.username);
    const changed = await denial(() =>
      admin.custom.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          namespace: ns.guarded,
          plural: 'scimtokenrotations',
          name: honest,
          body: { metadata: { annotations: { 'scim.tokens.dev/requested-by': 'someone-else' } } },
        },
        mergePatch,
      ),
    );
    expect(changed.code).toBe(403);
    expect(changed.message).toContain('cannot be changed');
  });
});
