// Delivery to Microsoft Entra ID (SPEC §2.7) on the real API server, against a local HTTPS server
// that speaks the token endpoint's and Graph's documented shapes (support/entra.ts). The operator
// trusts that server's self-signed certificate through --extra-ca-file and reaches it through
// --entra-authority-url and --graph-url.
import { randomUUID } from 'node:crypto';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScimDomain, ScimDomainSpec } from '../../src/api/types.js';
import { useTestNamespace } from './support/context.js';
import { FakeEntra } from './support/entra.js';
import { waitFor } from './support/kube.js';
import { assertNoTokenLeaks } from './support/leak.js';
import { metricTotal, saveOutput, startOperator, type OperatorProcess } from './support/operator.js';
import { Scim, secretValue } from './support/scim.js';
import { verify, verifierListening } from './support/verifier.js';

const ctx = useTestNamespace('dlv');
const TENANT = randomUUID();
const APP = { clientId: randomUUID(), clientSecret: `cs~${randomUUID()}-${randomUUID()}` };
const WRONG_SECRET = `cs~wrong-${randomUUID()}`;
const BASE_URL = 'https://app.example.com/scim/v2';
let scim: Scim;
let entra: FakeEntra;
let operator: OperatorProcess;
let verifierUrl: string;
const unique = (base: string) => `${base}-${ctx.runId}.example`;

beforeAll(async () => {
  scim = new Scim(ctx, ctx.namespace);
  entra = await FakeEntra.start();
  entra.register(APP);
  await credentialsSecret('entra-app', APP.clientSecret);
  operator = await startOperator({
    kubeconfig: ctx.kubeconfig,
    namespaces: [ctx.namespace],
    args: [
      '--entra-authority-url',
      entra.authorityUrl,
      '--graph-url',
      entra.graphUrl,
      '--extra-ca-file',
      entra.caFile,
    ],
  });
  verifierUrl = (await verifierListening(operator)).verifier;
});

afterAll(async () => {
  if (operator) {
    await operator.stop();
    saveOutput(ctx.runId, 'delivery', operator.output());
  }
  await entra?.close();
});

async function credentialsSecret(name: string, clientSecret: string): Promise<void> {
  const body = {
    metadata: { name, namespace: ctx.namespace },
    stringData: { clientId: APP.clientId, clientSecret },
  };
  try {
    await ctx.core.createNamespacedSecret({ namespace: ctx.namespace, body });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
    await ctx.core.patchNamespacedSecret(
      { namespace: ctx.namespace, name, body },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
}

function deliveredDomain(
  domain: string,
  servicePrincipalId: string,
  credentials = 'entra-app',
): ScimDomainSpec {
  return {
    domain: unique(domain),
    identityProvider: 'EntraID',
    scimBaseUrl: BASE_URL,
    delivery: {
      entraID: { tenantId: TENANT, servicePrincipalId, credentialsSecretRef: { name: credentials } },
    },
  };
}

/** Waits for the Delivered condition (for the current token when `status` is True). */
function waitForDelivered(
  name: string,
  status: 'True' | 'False',
  check: (d: ScimDomain) => boolean = () => true,
  timeoutMs = 30_000,
): Promise<ScimDomain> {
  return waitFor(
    `ScimDomain ${name} Delivered=${status}`,
    async () => {
      const d = await scim.getDomain(name);
      const c = d.status?.conditions?.find((x) => x.type === 'Delivered');
      if (c?.status !== status) return undefined;
      if (status === 'True' && d.status?.lastDelivery?.fingerprint !== d.status?.token?.fingerprint)
        return undefined;
      return check(d) ? d : undefined;
    },
    { timeoutMs },
  );
}

async function currentToken(name: string): Promise<string> {
  return secretValue(await scim.getSecret(`${name}-scim-token`), 'token')!;
}

describe('delivery to Entra ID', () => {
  const sp = randomUUID();

  it('writes BaseAddress and the Secret token to the service principal with a client-credentials token', async () => {
    await scim.createDomain('acme', deliveredDomain('acme', sp));
    const d = await waitForDelivered('acme', 'True');
    const token = await currentToken('acme');

    // What the token endpoint received: a form post of the app registration's client credentials.
    const tokenRequests = entra.tokenRequests();
    expect(tokenRequests).toHaveLength(1);
    const tokenRequest = tokenRequests[0]!;
    expect(tokenRequest.method).toBe('POST');
    expect(tokenRequest.path).toBe(`/authority/${TENANT}/oauth2/v2.0/token`);
    expect(tokenRequest.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(tokenRequest.body))).toEqual({
      client_id: APP.clientId,
      client_secret: APP.clientSecret,
      grant_type: 'client_credentials',
      scope: `${entra.graphUrl}/.default`,
    });

    // What Graph received: the bearer it was given, and exactly the documented JSON body.
    const puts = entra.putsFor(sp);
    expect(puts).toHaveLength(1);
    const put = puts[0]!;
    expect(put.method).toBe('PUT');
    expect(put.path).toBe(`/graph/v1.0/servicePrincipals/${sp}/synchronization/secrets`);
    expect(put.headers.authorization).toBe(`Bearer ${entra.accessTokens[0]}`);
    expect(put.headers['content-type']).toBe('application/json');
    expect(JSON.parse(put.body)).toEqual({
      value: [
        { key: 'BaseAddress', value: BASE_URL },
        { key: 'SecretToken', value: token },
      ],
    });
    expect(entra.stored.get(sp)).toEqual({ BaseAddress: BASE_URL, SecretToken: token });

    expect(d.status?.lastDelivery).toMatchObject({
      fingerprint: d.status?.token?.fingerprint,
      result: 'Success',
    });
    expect(d.status?.conditions?.find((c) => c.type === 'Delivered')).toMatchObject({
      status: 'True',
      reason: 'TokenDelivered',
    });
    expect((await scim.waitForEvent('acme', 'TokenDelivered')).message).toContain(sp);
    expect(await metricTotal(operator, 'scim_deliveries_total')).toBeGreaterThanOrEqual(1);
  });

  it('delivers the new token after a rotation, reusing the cached access token', async () => {
    const before = await scim.getDomain('acme');
    await scim.createRotation('acme-rotate', { domainRef: { name: 'acme' }, reason: 'scheduled hygiene' });
    await scim.waitForRotation('acme-rotate', { reason: 'Rotated', status: 'True' });
    const d = await waitForDelivered(
      'acme',
      'True',
      (x) => x.status?.token?.fingerprint !== before.status?.token?.fingerprint,
    );
    const token = await currentToken('acme');
    expect(entra.stored.get(sp)).toEqual({ BaseAddress: BASE_URL, SecretToken: token });
    expect(entra.putsFor(sp)).toHaveLength(2);
    expect(entra.tokenRequests()).toHaveLength(1);
    expect(d.status?.lastDelivery?.fingerprint).toBe(d.status?.token?.fingerprint);
  });

  it('delivers the same token again when the target changes (another service principal)', async () => {
    const moved = randomUUID();
    await scim.patchDomainSpec('acme', { delivery: { entraID: { servicePrincipalId: moved } } });
    const d = await waitForDelivered(
      'acme',
      'True',
      (x) => x.status?.lastDelivery?.target?.servicePrincipalId === moved,
    );
    expect(entra.stored.get(moved)).toEqual({
      BaseAddress: BASE_URL,
      SecretToken: await currentToken('acme'),
    });
    expect(d.status?.lastDelivery?.target).toEqual({
      cloud: 'Global',
      tenantId: TENANT,
      servicePrincipalId: moved,
      baseAddress: BASE_URL,
    });
  });

  it('retries a 429 after the Retry-After it was given, then reports Delivered=True', async () => {
    const throttled = randomUUID();
    entra.scriptedPuts.set(throttled, [
      {
        status: 429,
        headers: { 'retry-after': '1' },
        body: JSON.stringify({ error: { code: 'TooManyRequests', message: 'Too many requests.' } }),
      },
    ]);
    await scim.createDomain('throttled', deliveredDomain('throttled', throttled));
    await waitForDelivered('throttled', 'True');
    const puts = entra.putsFor(throttled);
    expect(puts).toHaveLength(2);
    expect(puts[1]!.at - puts[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(entra.stored.get(throttled)?.SecretToken).toBe(await currentToken('throttled'));
  });

  it('reports a refused client secret as Delivered=False DeliveryFailed, then delivers once it is fixed', async () => {
    const refusedSp = randomUUID();
    await credentialsSecret('entra-wrong', WRONG_SECRET);
    await scim.createDomain('refused', deliveredDomain('refused', refusedSp, 'entra-wrong'));
    const d = await waitForDelivered('refused', 'False');
    const c = d.status?.conditions?.find((x) => x.type === 'Delivered');
    expect(c?.reason).toBe('DeliveryFailed');
    expect(c?.message).toContain("Entra ID refused the app registration's client credentials");
    expect(c?.message).toContain('HTTP 401: invalid_client: AADSTS7000215: Invalid client secret provided');
    expect(c?.message).not.toContain('Trace ID');
    expect(d.status?.lastDelivery).toMatchObject({ result: 'Failure', failures: 1 });
    expect(entra.putsFor(refusedSp)).toHaveLength(0);
    const event = await scim.waitForEvent('refused', 'DeliveryFailed');
    expect(event.type).toBe('Warning');
    // Still Ready: the token is valid, only the identity provider does not have it yet.
    expect(d.status?.conditions?.find((x) => x.type === 'Ready')?.status).toBe('True');

    // Not retried in a hot loop: the next attempt is due 10 s after the first failure.
    await new Promise((r) => setTimeout(r, 3_000));
    const attempts = entra
      .tokenRequests()
      .filter((r) => new URLSearchParams(r.body).get('client_secret') === WRONG_SECRET);
    expect(attempts).toHaveLength(1);

    await credentialsSecret('entra-wrong', APP.clientSecret);
    await waitForDelivered('refused', 'True', undefined, 45_000);
    expect(entra.stored.get(refusedSp)?.SecretToken).toBe(await currentToken('refused'));
  });

  it('reports a missing credentials Secret and a revealed reveal-once token without calling anyone', async () => {
    const lonelySp = randomUUID();
    await scim.createDomain('lonely', {
      ...deliveredDomain('lonely', lonelySp, 'entra-missing'),
      revealOnce: true,
    });
    const d = await waitForDelivered('lonely', 'False');
    expect(d.status?.conditions?.find((x) => x.type === 'Delivered')?.message).toBe(
      `Secret ${ctx.namespace}/entra-missing (delivery.entraID.credentialsSecretRef) does not exist`,
    );
    // The token is revealed (kubectl scim token) before delivery could happen: nothing is left to deliver.
    await ctx.core.patchNamespacedSecret(
      {
        namespace: ctx.namespace,
        name: 'lonely-scim-token',
        body: { metadata: { annotations: { 'scim.tokens.dev/revealed': 'true' } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await waitForDelivered('lonely', 'False', (x) =>
      (x.status?.conditions?.find((c) => c.type === 'Delivered')?.message ?? '').includes(
        'its plaintext is no longer in Secret lonely-scim-token',
      ),
    );
    expect(entra.putsFor(lonelySp)).toHaveLength(0);
  });

  it('removes the Delivered condition and lastDelivery when delivery is taken out of the spec', async () => {
    await scim.patchDomainSpec('throttled', { delivery: null });
    await waitFor('Delivered to go', async () => {
      const d = await scim.getDomain('throttled');
      return d.status?.conditions?.some((c) => c.type === 'Delivered') || d.status?.lastDelivery
        ? undefined
        : d;
    });
  });

  it('refuses delivery without scimBaseUrl and a service principal ID that is not a GUID', async () => {
    const refuse = async (spec: Record<string, unknown>) => {
      try {
        await scim.createDomain('bad', spec as unknown as ScimDomainSpec);
      } catch (err) {
        return String((err as { body?: unknown }).body ?? err);
      }
      throw new Error('the API server accepted the domain');
    };
    const noUrl = deliveredDomain('bad', randomUUID());
    delete noUrl.scimBaseUrl;
    expect(await refuse(noUrl as unknown as Record<string, unknown>)).toContain(
      'delivery.entraID needs scimBaseUrl',
    );
    const notGuid = deliveredDomain('bad', 'my-enterprise-app');
    expect(await refuse(notGuid as unknown as Record<string, unknown>)).toContain('servicePrincipalId');
  });
});

describe('delivery with an overlap', () => {
  it('revokes the previous token as soon as the new one is delivered, and the IdP never holds a rejected token', async () => {
    const sp = randomUUID();
    await scim.createDomain('smooth', deliveredDomain('smooth', sp));
    await waitForDelivered('smooth', 'True');

    const idp = presentLastDelivered(sp);
    for (let i = 0; i < 3; i++) {
      const before = await scim.getDomain('smooth');
      const oldToken = await currentToken('smooth');
      await scim.createRotation(`smooth-${i}`, { domainRef: { name: 'smooth' }, overlap: '1h' });
      await scim.waitForRotation(`smooth-${i}`, { reason: 'Rotated' });
      const d = await waitForDelivered(
        'smooth',
        'True',
        (x) => x.status?.token?.fingerprint !== before.status?.token?.fingerprint && !x.status?.previousToken,
      );
      // Revoked by the delivery's status write, long before the hour is over.
      expect(d.status?.revokedTokens?.[0]).toMatchObject({
        id: before.status?.token?.id,
        fingerprint: before.status?.token?.fingerprint,
        reason: 'Rotated',
      });
      await waitFor('the verifier to refuse the previous token', async () =>
        (await verify(verifierUrl, oldToken)).status === 401 ? true : undefined,
      );
      expect(entra.stored.get(sp)?.SecretToken).toBe(await currentToken('smooth'));
    }
    const { requests, refused } = await idp.stop();
    expect(requests).toBeGreaterThan(10);
    expect(refused).toEqual([]);
    expect((await scim.waitForEvent('smooth', 'TokenRevoked')).message).toContain('delivered to Entra ID');
  });

  it('rotates every minute on a schedule without the IdP ever being refused', async () => {
    const sp = randomUUID();
    await scim.createDomain('minutely', deliveredDomain('minutely', sp));
    await waitForDelivered('minutely', 'True');
    const idp = presentLastDelivered(sp);

    await scim.createRotation('minutely-schedule', {
      domainRef: { name: 'minutely' },
      schedule: '* * * * *',
      overlap: '1h',
    });

    await scim.waitForRotation(
      'minutely-schedule',
      { reason: 'Scheduled' },
      {
        timeoutMs: 150_000,
        check: (r) => (r.status?.history ?? []).filter((h) => h.result === 'Rotated').length >= 2,
      },
    );
    const d = await waitForDelivered('minutely', 'True', (x) => !x.status?.previousToken);
    expect(entra.stored.get(sp)?.SecretToken).toBe(await currentToken('minutely'));
    expect(d.status?.revokedTokens?.filter((t) => t.reason === 'Rotated').length).toBeGreaterThanOrEqual(2);
    const { requests, refused } = await idp.stop();
    expect(requests).toBeGreaterThan(100);
    expect(refused).toEqual([]);
  }, 180_000);
});

/**
 * An IdP that always presents the token the Graph server last received, as fast as it can. A
 * request that started before a newer token arrived is not counted against the operator (the IdP
 * could not have known).
 */
function presentLastDelivered(sp: string): { stop(): Promise<{ requests: number; refused: string[] }> } {
  let running = true;
  let requests = 0;
  const refused: string[] = [];
  const client = (async () => {
    while (running) {
      const held = entra.stored.get(sp)?.SecretToken;
      if (held) {
        const answer = await verify(verifierUrl, held);
        requests++;
        if (answer.status !== 200 && entra.stored.get(sp)?.SecretToken === held)
          refused.push(`${answer.status} ${answer.body}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    async stop() {
      running = false;
      await client;
      return { requests, refused };
    },
  };
}

describe('secrecy', () => {
  it('leaves no SCIM token, client secret or access token in the output, Events or statuses', async () => {
    const n = await assertNoTokenLeaks(ctx, [ctx.namespace], [operator.output()]);
    expect(n).toBeGreaterThanOrEqual(4);
    const events = JSON.stringify((await ctx.core.listNamespacedEvent({ namespace: ctx.namespace })).items);
    const domains = JSON.stringify(
      await ctx.custom.listNamespacedCustomObject({
        group: 'scim.tokens.dev',
        version: 'v1alpha1',
        namespace: ctx.namespace,
        plural: 'scimdomains',
      }),
    );
    const haystack = [operator.output(), events, domains].join('\n');
    for (const secret of [APP.clientSecret, WRONG_SECRET, ...entra.accessTokens]) {
      expect(haystack.includes(secret), `a secret (${secret.slice(0, 5)}…) leaked`).toBe(false);
    }
    expect(entra.accessTokens.length).toBeGreaterThan(0);
  });
});
