// Rotation with an overlap (SPEC §2.2, issue #14): the previous token keeps verifying until
// expiresAt — saying so in X-Scim-Token-Expires — and is then revoked by one status write, also when
// the operator was killed during the window; a later rotation or a suspension ends the overlap at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScimDomain } from '../../src/api/types.js';
import { useTestNamespace } from './support/context.js';
import { waitFor } from './support/kube.js';
import { assertNoTokenLeaks } from './support/leak.js';
import { saveOutput, startOperator, type OperatorProcess } from './support/operator.js';
import { Scim, secretValue } from './support/scim.js';
import { verify, verifierListening } from './support/verifier.js';

const ctx = useTestNamespace('overlap');
const outputs: string[] = [];
let scim: Scim;
let operator: OperatorProcess;
let url: string;
let n = 0;

async function start(): Promise<void> {
  operator = await startOperator({ kubeconfig: ctx.kubeconfig, namespaces: [ctx.namespace] });
  url = (await verifierListening(operator)).verifier;
}

async function stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  await operator.stop(signal);
  outputs.push(operator.output());
}

beforeAll(async () => {
  scim = new Scim(ctx, ctx.namespace);
  await start();
});

afterAll(async () => {
  if (operator) {
    await stop();
    saveOutput(ctx.runId, 'overlap', outputs.join('\n'));
  }
  await assertNoTokenLeaks(ctx, [ctx.namespace], outputs);
});

async function domainWithToken(): Promise<{ name: string; token: string }> {
  const name = `o${n++}`;
  await scim.createDomain(name, { domain: `${name}-${ctx.runId}.example` });
  await scim.waitForReady(name);
  return { name, token: secretValue(await scim.getSecret(`${name}-scim-token`), 'token')! };
}

/** Rotates with that overlap; returns the new token and the domain right after. */
async function rotate(name: string, overlap?: string): Promise<{ token: string; domain: ScimDomain }> {
  const before = (await scim.getDomain(name)).status?.token?.sha256;
  const rotation = `${name}-r${n++}`;
  await scim.createRotation(rotation, { domainRef: { name }, ...(overlap ? { overlap } : {}) });
  await scim.waitForRotation(rotation, { reason: 'Rotated' });
  const domain = await scim.waitForReady(
    name,
    undefined,
    undefined,
    (d) => d.status?.token?.sha256 !== before,
  );
  const token = await waitFor('the new token in the Secret', async () => {
    const t = secretValue(await scim.getSecret(`${name}-scim-token`), 'token');
    return t && (await verify(url, t)).status === 200 ? t : undefined;
  });
  return { token, domain };
}

const statusOf = async (token: string) => (await verify(url, token)).status;

describe('a rotation with an overlap', () => {
  it('lets both tokens verify until expiresAt, the old one saying when, then revokes the old one once', async () => {
    const { name, token: old } = await domainWithToken();

    const { token: fresh, domain } = await rotate(name, '6s');

    const previous = domain.status?.previousToken;
    expect(previous?.expiresAt).toBeDefined();
    const answer = await verify(url, old);
    expect(answer.status).toBe(200);
    expect(answer.headers['x-scim-token-expires']).toBe(previous!.expiresAt);
    expect((await verify(url, fresh)).headers['x-scim-token-expires']).toBeUndefined();

    await waitFor('the overlap to end', async () => ((await statusOf(old)) === 401 ? true : undefined), {
      timeoutMs: 30_000,
    });
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(previous!.expiresAt));
    const after = await waitFor('the status write that ends the overlap', async () => {
      const d = await scim.getDomain(name);
      return d.status?.previousToken === undefined ? d : undefined;
    });
    expect(after.status?.revokedTokens?.filter((t) => t.id === previous!.id)).toHaveLength(1);
    expect(after.status?.revokedTokens?.[0]).toMatchObject({ id: previous!.id, reason: 'Rotated' });
    expect(await statusOf(fresh)).toBe(200);
    await scim.waitForEvent(name, 'TokenRevoked');
  });

  it('ends at expiresAt even when the operator was killed during the window and restarted after it', async () => {
    const { name, token: old } = await domainWithToken();
    const { domain } = await rotate(name, '4s');
    const expiresAt = Date.parse(domain.status!.previousToken!.expiresAt);

    await stop('SIGKILL');
    while (Date.now() < expiresAt + 1_000) await new Promise((r) => setTimeout(r, 200));
    await start();

    // The restarted verifier refuses it from its first answer: expiresAt is in the index itself.
    expect(await statusOf(old)).toBe(401);
    const after = await waitFor('the status write that ends the overlap', async () => {
      const d = await scim.getDomain(name);
      return d.status?.previousToken === undefined ? d : undefined;
    });
    expect(after.status?.revokedTokens?.filter((t) => t.reason === 'Rotated')).toHaveLength(1);
  });

  it('is ended at once by a later rotation', async () => {
    const { name, token: first } = await domainWithToken();
    const { token: second } = await rotate(name, '1h');
    expect(await statusOf(first)).toBe(200);

    const { token: third } = await rotate(name);

    expect(await statusOf(first)).toBe(401);
    expect(await statusOf(second)).toBe(401);
    expect(await statusOf(third)).toBe(200);
    expect((await scim.getDomain(name)).status?.previousToken).toBeUndefined();
  });

  it('is ended at once by a suspension', async () => {
    const { name, token: first } = await domainWithToken();
    const { token: second } = await rotate(name, '1h');

    await scim.patchDomainSpec(name, { suspend: true });

    await waitFor('both tokens to be refused', async () =>
      (await statusOf(first)) === 401 && (await statusOf(second)) === 401 ? true : undefined,
    );
    const d = await scim.waitForReady(name, { status: 'True', reason: 'Suspended' });
    expect(d.status?.previousToken).toBeUndefined();
    expect(d.status?.revokedTokens?.map((t) => t.reason)).toEqual(['Suspended', 'Rotated']);
  });
});
