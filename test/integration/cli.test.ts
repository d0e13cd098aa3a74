// `kubectl scim` (SPEC §5) against the real API server and the real operator: every command run as
// a child process with a kubeconfig file, the y/N confirmation through a real pseudo-terminal, the
// refusal without one, and the messages for unreachable clusters, missing permissions, unknown and
// not-Ready domains — with real ServiceAccount credentials and the admission policy of config/.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { KubeConfig, loadYaml } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScimDomain, ScimTokenRotation } from '../../src/api/types.js';
import { generateToken, tokenFingerprint } from '../../src/rules/token.js';
import {
  cliOutputsWithoutTokens,
  hasScript,
  kubectlScim,
  kubectlScimInPty,
  kubectlScimUntil,
  writeKubeconfig,
  type CliRun,
} from './support/cli.js';
import { useTestNamespace } from './support/context.js';
import { GROUP, VERSION, applyManifests, waitFor } from './support/kube.js';
import { assertNoTokenLeaks } from './support/leak.js';
import { saveOutput, startOperator, type OperatorProcess } from './support/operator.js';
import { Scim, secretValue } from './support/scim.js';
import { bind, grantRole, serviceAccountUser } from './support/users.js';
import { verifierListening } from './support/verifier.js';

const ctx = useTestNamespace('cli');
const BASE_URL = 'https://app.example.com/scim/v2';
const TOKEN_LINE = /^sct_[0-9A-Za-z]{46}\n$/;
let scim: Scim;
let operator: OperatorProcess;
let verifierUrl: string;
/** Admin credentials whose context namespace is the test namespace (so -n is not needed). */
let admin: string;

/** A domain unique to this run (domains are unique cluster-wide) and the object name `add` gives it. */
const domainOf = (base: string) => `${base}-${ctx.runId}.example`;
const nameOf = (base: string) => `${base}-${ctx.runId}-example`;
const ACME = 'acme';

async function secretToken(name: string): Promise<string | undefined> {
  return secretValue(await scim.getSecret(`${name}-scim-token`), 'token');
}

async function rotationsOf(domainName: string): Promise<ScimTokenRotation[]> {
  const list = (await ctx.custom.listNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: ctx.namespace,
    plural: 'scimtokenrotations',
  })) as { items: ScimTokenRotation[] };
  return list.items.filter((r) => r.spec.domainRef.name === domainName);
}

/** A token of ACME that a rotation replaced: the rotate test's, or one rotated away through the API. */
let revokedToken = '';
async function aRevokedToken(): Promise<string> {
  if (revokedToken !== '') return revokedToken;
  const old = (await secretToken(ACME))!;
  await scim.createRotation('acme-by-api', { domainRef: { name: ACME } });
  await scim.waitForRotation('acme-by-api', { reason: 'Rotated', status: 'True' });
  revokedToken = old;
  return old;
}

function expectOk(r: CliRun): void {
  expect(r.code, `exit ${r.code}\n${r.stderr}`).toBe(0);
}

beforeAll(async () => {
  // Only the rotation policy: the others bind cluster-wide with parameters naming the operator, and
  // this API server is shared with the other test files (hostile-editor.test.ts binds them to its
  // own namespaces).
  await applyManifests(ctx.objects, ['config/rbac', 'config/admission/rotation-policy.yaml']);
  scim = new Scim(ctx, ctx.namespace);
  operator = await startOperator({ kubeconfig: ctx.kubeconfig, namespaces: [ctx.namespace] });
  verifierUrl = (await verifierListening(operator)).verifier;
  // The domain most tests work on, applied like GitOps would; `add` is tested on domains of its own.
  await scim.createDomain(ACME, {
    domain: domainOf('acme'),
    identityProvider: 'EntraID',
    scimBaseUrl: BASE_URL,
  });
  await scim.waitForReady(ACME);

  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: ctx.kc.clusters,
    users: ctx.kc.users,
    contexts: ctx.kc.contexts.map((c) => ({ ...c, namespace: ctx.namespace })),
    currentContext: ctx.kc.currentContext,
  });
  admin = writeKubeconfig(kc, 'admin');
});

afterAll(async () => {
  if (operator) {
    await operator.stop();
    saveOutput(ctx.runId, 'cli', operator.output());
  }
});

describe('kubectl scim add', () => {
  it('creates the ScimDomain, waits for its token, prints it alone on stdout and the Entra ID steps on stderr', async () => {
    const r = await kubectlScim(
      ['add', domainOf('added'), '--idp', 'EntraID', '--scim-base-url', BASE_URL, '--no-invitations'],
      { kubeconfig: admin },
    );
    expectOk(r);
    expect(r.stdout).toMatch(TOKEN_LINE);
    expect(r.stdout.trim()).toBe(await secretToken(nameOf('added')));
    expect(r.stderr).toContain(`ScimDomain ${ctx.namespace}/${nameOf('added')} created`);
    expect(r.stderr).toMatch(/Ready: token sha256:[0-9a-f]{12} \(tok-[0-9a-z]{10}\) issued/);
    expect(r.stderr).toContain('Enterprise applications → your application → Provisioning');
    expect(r.stderr).toContain(`Tenant URL to ${BASE_URL}`);
    expect(r.stderr).toContain('Secret Token');
    expect(r.stderr).toContain('Test Connection');
    const d = await scim.getDomain(nameOf('added'));
    expect(d.spec).toMatchObject({
      domain: domainOf('added'),
      identityProvider: 'EntraID',
      sendEmailInvitations: false,
      scimBaseUrl: BASE_URL,
    });
  });

  it('takes --name, and says what to do instead when the ScimDomain already exists (exit 1)', async () => {
    expectOk(await kubectlScim(['add', domainOf('named'), '--name', 'named'], { kubeconfig: admin }));
    const again = await kubectlScim(['add', domainOf('named'), '--name', 'named'], { kubeconfig: admin });
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toContain(`ScimDomain named already exists in namespace ${ctx.namespace}`);
    expect(again.stderr).toContain('kubectl scim token named');
    expect(again.stderr).toContain('kubectl scim rotate named');
  });

  it("refuses an invalid domain with the API server's reason (exit 2)", async () => {
    const r = await kubectlScim(['add', 'Not-A-Domain', '--name', 'bad'], { kubeconfig: admin });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('invalid input');
    expect(r.stderr).toContain('lowercase');
  });

  it('with --reveal-once prints the token this once; token then says it cannot be shown again', async () => {
    const r = await kubectlScim(
      ['add', domainOf('once'), '--idp', 'Okta', '--reveal-once', '-n', ctx.namespace],
      {
        kubeconfig: ctx.kubeconfig,
      },
    );
    expectOk(r);
    expect(r.stdout).toMatch(TOKEN_LINE);
    expect(r.stderr).toContain('shown only this once');
    expect(r.stderr).toContain('It will not be shown again');
    expect(r.stderr).toContain('SCIM connector base URL');
    const secret = await scim.getSecret(`${nameOf('once')}-scim-token`);
    expect(secret?.metadata?.annotations?.['scim.tokens.dev/revealed']).toBe('true');
    await waitFor('the operator to remove the revealed plaintext', async () =>
      (await secretToken(nameOf('once'))) === undefined ? true : undefined,
    );
    const later = await kubectlScim(['token', nameOf('once')], { kubeconfig: admin });
    expect(later.code).toBe(1);
    expect(later.stdout).toBe('');
    expect(later.stderr).toContain('was already revealed and cannot be shown again');
    expect(later.stderr).toContain(`kubectl scim rotate ${nameOf('once')}`);
  });
});

describe('kubectl scim domains', () => {
  it("lists the context namespace's domains: domain, IdP, ready with reason, fingerprint, token age, last rotation", async () => {
    const d = await scim.getDomain(ACME);
    const r = await kubectlScim(['domains'], { kubeconfig: admin });
    expectOk(r);
    const [header, ...rows] = r.stdout.trimEnd().split('\n');
    expect(header).toMatch(
      /^NAMESPACE\s+NAME\s+DOMAIN\s+IDP\s+READY\s+REASON\s+TOKEN\s+TOKEN AGE\s+LAST ROTATION$/,
    );
    const row = rows.find((l) => l.includes(ACME))?.split(/\s{3,}/);
    expect(row?.slice(0, 7)).toEqual([
      ctx.namespace,
      ACME,
      domainOf('acme'),
      'EntraID',
      'True',
      'TokenIssued',
      d.status!.token!.fingerprint,
    ]);
    expect(row?.[7]).toMatch(/^\d+[smh]/);
  });

  it('lists all namespaces with -A, and says so when a namespace has none', async () => {
    const all = await kubectlScim(['domains', '-A'], { kubeconfig: admin });
    expectOk(all);
    expect(all.stdout).toMatch(new RegExp(`^${ctx.namespace}\\s+${ACME}\\s`, 'm'));
    const empty = await kubectlScim(['domains', '-n', 'kube-public'], { kubeconfig: admin });
    expectOk(empty);
    expect(empty.stdout).toBe('');
    expect(empty.stderr).toContain('No ScimDomains found in namespace kube-public');
  });
});

describe('kubectl scim domains -o and status', () => {
  it.each(['json', 'yaml'])('prints the ScimDomains as a kubectl List with -o %s', async (format) => {
    const r = await kubectlScim(['domains', '-o', format], { kubeconfig: admin });
    expectOk(r);
    const list = loadYaml<{ kind: string; items: ScimDomain[] }>(r.stdout);
    expect(list.kind).toBe('List');
    const acme = list.items.find((d) => d.metadata.name === ACME);
    expect(acme?.spec.domain).toBe(domainOf('acme'));
    expect(acme?.status?.token?.fingerprint).toMatch(/^sha256:/);
  });

  it('prints kubectl-style names with -o name', async () => {
    const r = await kubectlScim(['domains', '-o', 'name'], { kubeconfig: admin });
    expectOk(r);
    expect(r.stdout.split('\n')).toContain(`scimdomain.scim.tokens.dev/${ACME}`);
  });

  it('status shows readiness, conditions, the token, rotations and recent Events', async () => {
    await aRevokedToken();
    const d = await scim.getDomain(ACME);
    const r = await kubectlScim(['status', ACME], { kubeconfig: admin });
    expectOk(r);
    expect(r.stdout).toContain(`ScimDomain:    ${ctx.namespace}/${ACME}`);
    expect(r.stdout).toMatch(/^Ready:\s+True TokenIssued/m);
    expect(r.stdout).toContain(d.status!.token!.fingerprint);
    expect(r.stdout).toMatch(/^Conditions:\n\s+TYPE\s+STATUS\s+REASON/m);
    expect(r.stdout).toMatch(/^\s+acme-by-api\s+one-shot\s+True\s+Rotated/m);
    expect(r.stdout).toMatch(/TokenRotated\s+ScimTokenRotation\/acme-by-api/);
    expect(r.stdout).toMatch(/TokenIssued\s+ScimDomain\/acme/);
  });

  it('status -o json is the same report as data', async () => {
    const r = await kubectlScim(['status', ACME, '-o', 'json'], { kubeconfig: admin });
    expectOk(r);
    const report = JSON.parse(r.stdout) as {
      name: string;
      ready: { status: string };
      rotations: { name: string }[];
      events: { reason: string }[];
    };
    expect(report).toMatchObject({ name: ACME, ready: { status: 'True' } });
    expect(report.rotations.map((x) => x.name)).toContain('acme-by-api');
    expect(report.events.map((e) => e.reason)).toContain('TokenRotated');
  });
});

describe('kubectl scim token', () => {
  it("prints the current token (the Secret's) alone on stdout", async () => {
    const r = await kubectlScim(['token', ACME], { kubeconfig: admin });
    expectOk(r);
    expect(r.stdout).toMatch(TOKEN_LINE);
    expect(r.stdout.trim()).toBe(await secretToken(ACME));
    expect(r.stderr).toContain(`of ScimDomain ${ctx.namespace}/${ACME}`);
  });

  it('reveals a reveal-once token applied with kubectl once, marks the Secret revealed, then refuses', async () => {
    await scim.createDomain('applied-once', { domain: domainOf('applied-once'), revealOnce: true });
    await scim.waitForReady('applied-once');
    const first = await kubectlScim(['token', 'applied-once', '--kubeconfig', admin]);
    expectOk(first);
    expect(first.stdout).toMatch(TOKEN_LINE);
    expect(first.stderr).toContain('It will not be shown again (revealOnce)');
    const s = await scim.getSecret('applied-once-scim-token');
    expect(s?.metadata?.annotations?.['scim.tokens.dev/revealed']).toBe('true');
    const second = await kubectlScim(['token', 'applied-once', '--kubeconfig', admin]);
    expect(second.code).toBe(1);
    expect(second.stdout).toBe('');
    expect(second.stderr).toContain('cannot be shown again');
  });

  it('says which domain does not exist, and where (exit 1)', async () => {
    const r = await kubectlScim(['token', 'nope'], { kubeconfig: admin });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`ScimDomain nope not found in namespace ${ctx.namespace}`);
  });
});

describe('kubectl scim rotate', () => {
  it('with --yes warns, rotates through a ScimTokenRotation, and prints the new token and the next steps', async () => {
    const name = ACME;
    const old = (await secretToken(name))!;
    const r = await kubectlScim(['rotate', name, '--yes', '--reason', 'cli test'], { kubeconfig: admin });
    expectOk(r);
    expect(r.stderr).toContain('stops working immediately');
    expect(r.stderr).toContain('This cannot be undone.');
    expect(r.stderr).toContain(`Rotated: the previous token ${tokenFingerprint(old)} is revoked`);
    expect(r.stderr).toContain('paste the new token printed above into Secret Token');
    expect(r.stdout).toMatch(TOKEN_LINE);
    const fresh = r.stdout.trim();
    expect(fresh).not.toBe(old);
    expect(await secretToken(name)).toBe(fresh);
    const rotation = (await rotationsOf(name)).find((r) => r.metadata.name.startsWith(`${name}-rotate-`));
    expect(rotation?.metadata.name).toMatch(new RegExp(`^${name}-rotate-[a-z0-9]{5}$`));
    expect(rotation?.spec.reason).toBe('cli test');
    // Deletes itself an hour after it ran (--ttl), so rotations from the CLI do not pile up.
    expect(rotation?.spec.ttlSecondsAfterFinished).toBe(3600);
    expect(rotation?.status?.newToken?.fingerprint).toBe(tokenFingerprint(fresh));
    revokedToken = old;
  });

  it('refuses without --yes when standard input is not a terminal (exit 2), creating nothing', async () => {
    const name = ACME;
    const before = (await rotationsOf(name)).length;
    const token = await secretToken(name);
    const r = await kubectlScim(['rotate', name], { kubeconfig: admin });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('standard input is not a terminal');
    expect(r.stderr).toContain('Pass --yes');
    expect((await rotationsOf(name)).length).toBe(before);
    expect(await secretToken(name)).toBe(token);
  });

  describe.runIf(hasScript())('on a terminal (pseudo-terminal through util-linux script)', () => {
    it('asks y/N after the warning and rotates on "y"', async () => {
      const name = ACME;
      const old = await secretToken(name);
      const r = await kubectlScimInPty(['rotate', name], { kubeconfig: admin, prompt: '[y/N]', answer: 'y' });
      expect(r.code, r.output).toBe(0);
      expect(r.output.indexOf('This cannot be undone.')).toBeLessThan(r.output.indexOf('[y/N]'));
      expect(r.output).toContain(`Rotate the token of ${ctx.namespace}/${name} now? [y/N]`);
      expect(r.output).toContain('Rotated: the previous token');
      const fresh = await secretToken(name);
      expect(fresh).not.toBe(old);
      expect(r.output).toContain(fresh);
    });

    it('verify reads the token from the terminal without echoing it', async () => {
      const token = (await secretToken(ACME))!;
      const r = await kubectlScimInPty(['verify'], {
        kubeconfig: admin,
        prompt: 'input is hidden',
        answer: token,
      });
      expect(r.code, r.output).toBe(0);
      expect(r.output).toContain(`valid: token ${tokenFingerprint(token)}`);
      expect(r.output).not.toContain(token);
    });

    it('changes nothing on "n" (exit 1)', async () => {
      const name = ACME;
      const before = (await rotationsOf(name)).length;
      const token = await secretToken(name);
      const r = await kubectlScimInPty(['rotate', name], { kubeconfig: admin, prompt: '[y/N]', answer: 'n' });
      expect(r.code, r.output).toBe(1);
      expect(r.output).toContain('not rotated: nothing was changed.');
      expect(r.output).not.toMatch(/sct_[0-9A-Za-z]{46}/);
      expect((await rotationsOf(name)).length).toBe(before);
      expect(await secretToken(name)).toBe(token);
    });
  });

  it('says a suspended domain is not Ready, with the reason and how to enable it (rotate and token)', async () => {
    await scim.createDomain('paused', { domain: domainOf('paused') });
    await scim.waitForReady('paused');
    await scim.patchDomainSpec('paused', { suspend: true });
    await scim.waitForReady('paused', { status: 'True', reason: 'Suspended' });
    for (const args of [
      ['rotate', 'paused', '--yes'],
      ['token', 'paused'],
    ]) {
      const r = await kubectlScim(args, { kubeconfig: admin });
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`ScimDomain ${ctx.namespace}/paused is not Ready (Suspended:`);
      expect(r.stderr).toContain('"suspend":false');
    }
  });

  describe('kubectl scim verify', () => {
    it('says a current token is valid, for which domain (exit 0)', async () => {
      const token = (await secretToken(ACME))!;
      const r = await kubectlScim(['verify'], { kubeconfig: admin, input: `${token}\n` });
      expectOk(r);
      expect(r.stdout).toContain(`valid: token ${tokenFingerprint(token)}`);
      expect(r.stdout).toContain(
        `ScimDomain ${ctx.namespace}/${ACME} (domain ${domainOf('acme')}, IdP EntraID)`,
      );
    });

    it('says a rotated-away token is revoked, by which domain and when (exit 1)', async () => {
      const revoked = await aRevokedToken();
      const r = await kubectlScim(['verify'], { kubeconfig: admin, input: revoked });
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`invalid (revoked): token ${tokenFingerprint(revoked)}`);
      expect(r.stdout).toContain(`of ScimDomain ${ctx.namespace}/${ACME}`);
      expect(r.stdout).toContain('replaced by a rotation (reason Rotated)');
    });

    it('says why malformed and unknown tokens are invalid (exit 1), and wants a token on stdin (exit 2)', async () => {
      const malformed = await kubectlScim(['verify'], {
        kubeconfig: admin,
        input: 'sct_definitely-not-a-token',
      });
      expect([malformed.code, malformed.stdout]).toEqual([1, expect.stringContaining('invalid (malformed)')]);
      const unknown = generateToken((n) => randomBytes(n));
      const r = await kubectlScim(['verify'], { kubeconfig: admin, input: unknown });
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`invalid (unknown): no ScimDomain in all namespaces`);
      const none = await kubectlScim(['verify'], { kubeconfig: admin, input: '' });
      expect(none.code).toBe(2);
      expect(none.stderr).toContain('no token on standard input');
    });

    it("asks a running verifier's /v1/tokenreviews with --url", async () => {
      const revoked = await aRevokedToken();
      const token = (await secretToken(ACME))!;
      // The verifier follows ScimDomains by watch: a token recorded a moment ago may need a moment.
      const ok = await kubectlScimUntil(
        'the verifier to accept the current token',
        ['verify', '--url', verifierUrl],
        { kubeconfig: admin, input: token },
        (x) => x.code === 0,
      );
      expect(ok.stdout).toContain(`accepts token ${tokenFingerprint(token)}`);
      expect(ok.stdout).toContain(`ScimDomain ${ctx.namespace}/${ACME}`);
      const rejected = await kubectlScim(['verify', '--url', verifierUrl], {
        kubeconfig: admin,
        input: revoked,
      });
      expect(rejected.code).toBe(1);
      expect(rejected.stdout).toContain('invalid (revoked)');
    });
  });
});

describe('errors say what to do', () => {
  it('names the API server and what to check when no cluster is reachable', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'gone', server: `https://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 'x' }],
      contexts: [{ name: 'gone', cluster: 'gone', user: 'u' }],
      currentContext: 'gone',
    });
    const r = await kubectlScim(['domains'], { kubeconfig: writeKubeconfig(kc, 'gone') });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `cannot reach the Kubernetes API server at https://127.0.0.1:${port} (ECONNREFUSED)`,
    );
    expect(r.stderr).toContain('KUBECONFIG');
    expect(r.stderr).toContain('npm run cluster:up');
  });

  it('names the verbs and resources a user without rotate needs (edit role: RBAC denies)', async () => {
    const user = await serviceAccountUser(ctx, ctx.namespace, 'cli-editor');
    await bind(ctx, ctx.namespace, user, 'edit', 'ClusterRole');
    const name = ACME;
    const r = await kubectlScimUntil(
      'the edit binding to apply',
      ['rotate', name, '--yes'],
      { kubeconfig: writeKubeconfig(user.kc, 'editor') },
      (x) => x.stderr.includes('permission denied'),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      `you need "create" on scimtokenrotations.scim.tokens.dev and "rotate" on scimdomains/${name} in namespace ${ctx.namespace}`,
    );
  });

  it("passes the admission policy's message through for a user who may create rotations but not rotate", async () => {
    const user = await serviceAccountUser(ctx, ctx.namespace, 'cli-creator');
    await grantRole(ctx, ctx.namespace, user, 'cli-rotation-creator', [
      { apiGroups: [GROUP], resources: ['scimdomains', 'scimtokenrotations'], verbs: ['get', 'list'] },
      { apiGroups: [GROUP], resources: ['scimtokenrotations'], verbs: ['create'] },
    ]);
    const name = ACME;
    const r = await kubectlScimUntil(
      'the role to apply and admission to deny',
      ['rotate', name, '--yes'],
      { kubeconfig: writeKubeconfig(user.kc, 'creator') },
      (x) => x.stderr.includes('may not rotate that domain'),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`"rotate" on scimdomains/${name} in namespace ${ctx.namespace}`);
    expect(r.stderr).toContain(`requires the "rotate" verb on scimdomains/${name}`);
    expect(r.stderr).toContain(`${user.username} may not rotate that domain`);
  });

  it('names the Secret a viewer would need to read a token', async () => {
    const user = await serviceAccountUser(ctx, ctx.namespace, 'cli-viewer');
    await bind(ctx, ctx.namespace, user, 'view', 'ClusterRole');
    const name = ACME;
    const r = await kubectlScimUntil(
      'the view binding to apply',
      ['token', name],
      { kubeconfig: writeKubeconfig(user.kc, 'viewer') },
      (x) => x.stderr.includes('permission denied'),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`you need "get" on secrets/${name}-scim-token in namespace ${ctx.namespace}`);
    // The viewer still sees the domains, and verify works without Secrets.
    const list = await kubectlScim(['domains'], { kubeconfig: writeKubeconfig(user.kc, 'viewer2') });
    expectOk(list);
    expect(list.stdout).toContain(name);
  });
});

describe('secrecy', () => {
  it('leaves no token in the CLI stderr, non-token stdout, operator output, Events or statuses', async () => {
    const n = await assertNoTokenLeaks(
      ctx,
      [ctx.namespace],
      [operator.output(), ...cliOutputsWithoutTokens()],
    );
    expect(n).toBeGreaterThanOrEqual(5);
  });
});
