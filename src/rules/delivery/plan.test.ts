import { describe, expect, it } from 'vitest';
import type { LastDelivery, ScimDomain, ScimDomainStatus } from '../../api/types.js';
import { readyCondition, scimDomain } from '../../../test/support/builders.js';
import { getCondition } from '../conditions.js';
import {
  deliveryBackoffMs,
  planDelivery,
  recordDelivery,
  type DeliveryDecision,
  type DeliveryState,
} from './plan.js';
import type { Action, SecretView } from '../scimdomain/plan.js';
import { generateToken, tokenFingerprint, tokenSha256 } from '../token.js';

const NOW = new Date('2026-01-10T12:00:00Z');
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs).toISOString();
const TOKEN = generateToken((n) => Uint8Array.from({ length: n }, (_, i) => (i * 7) % 248));
const OTHER = generateToken((n) => Uint8Array.from({ length: n }, (_, i) => (i * 11 + 3) % 248));
const FP = tokenFingerprint(TOKEN);
const TENANT = '11111111-2222-3333-4444-555555555555';
const SP = '66666666-7777-8888-9999-000000000000';
const BASE_URL = 'https://app.example.com/scim/v2';

const ENTRA = {
  tenantId: TENANT,
  servicePrincipalId: SP,
  credentialsSecretRef: { name: 'entra-app' },
};

/** ns/acme at generation 3, Ready with token tok1 (TOKEN), delivering to ENTRA, unless `opts` says otherwise. */
function domain(
  opts: {
    delivery?: boolean;
    status?: Partial<ScimDomainStatus>;
    ready?: 'True' | 'False';
    suspend?: boolean;
    scimBaseUrl?: string | null;
  } = {},
): ScimDomain {
  return scimDomain({
    metadata: { name: 'acme', uid: 'uid-1', generation: 3, resourceVersion: '42' },
    spec: {
      domain: 'acme.example.com',
      ...(opts.scimBaseUrl === null ? {} : { scimBaseUrl: opts.scimBaseUrl ?? BASE_URL }),
      ...(opts.suspend ? { suspend: true } : {}),
      ...(opts.delivery === false ? {} : { delivery: { entraID: ENTRA } }),
    },
    status: {
      token: {
        id: 'tok1',
        fingerprint: FP,
        sha256: tokenSha256(TOKEN),
        issuedAt: at(-60_000),
        generation: 1,
      },
      conditions: [
        readyCondition({
          status: opts.ready ?? 'True',
          message: 'current',
          lastTransitionTime: at(-60_000),
          observedGeneration: 3,
        }),
      ],
      secretName: 'acme-scim-token',
      ...opts.status,
    },
  });
}

function secret(token: string | undefined): SecretView {
  return {
    name: 'acme-scim-token',
    uid: 's1',
    resourceVersion: '7',
    controllerUid: 'uid-1',
    labels: {},
    annotations: {},
    data: { ...(token !== undefined ? { token } : {}), 'token-sha256': tokenSha256(TOKEN) },
  };
}

const TARGET = { cloud: 'Global' as const, tenantId: TENANT, servicePrincipalId: SP, baseAddress: BASE_URL };

/** A delivery of FP to `target` that succeeded a second ago. */
const delivered = (target: LastDelivery['target'] = TARGET): LastDelivery => ({
  time: at(-1000),
  fingerprint: FP,
  target,
  result: 'Success',
  message: 'ok',
});
const failed = (
  offsetMs: number,
  failures: number,
  fingerprint = FP,
  message = 'HTTP 503',
): LastDelivery => ({
  time: at(offsetMs),
  fingerprint,
  target: TARGET,
  result: 'Failure',
  message,
  failures,
});

/** The token an overlap keeps verifying until `expiresAt` (status.previousToken). */
const overlapPrevious = (expiresAt: string) => ({
  id: 'old1',
  fingerprint: 'sha256:aaaaaaaaaaaa',
  sha256: 'a'.repeat(64),
  expiresAt,
});

function summary(d: DeliveryDecision): string {
  if (d.kind === 'none') return `none${d.requeueAfterMs !== undefined ? `:${d.requeueAfterMs}` : ''}`;
  return d.kind;
}

describe('planDelivery', () => {
  it.each<{ name: string; state: DeliveryState; want: string }>([
    {
      name: 'a domain without delivery and no trace of one',
      state: { domain: domain({ delivery: false }), secret: secret(TOKEN) },
      want: 'none',
    },
    {
      name: 'a new token never delivered',
      state: { domain: domain(), secret: secret(TOKEN) },
      want: 'deliver',
    },
    {
      name: 'a token delivered before',
      state: {
        domain: domain({ status: { lastDelivery: delivered() } }),
        secret: secret(TOKEN),
      },
      want: 'none',
    },
    {
      name: 'a token delivered before to another service principal (spec changed)',
      state: {
        domain: domain({
          status: {
            lastDelivery: delivered({
              ...TARGET,
              servicePrincipalId: '00000000-7777-8888-9999-000000000000',
            }),
          },
        }),
        secret: secret(TOKEN),
      },
      want: 'deliver',
    },
    {
      name: 'a token delivered before with another scimBaseUrl',
      state: {
        domain: domain({
          status: { lastDelivery: delivered({ ...TARGET, baseAddress: 'https://old.example.com/scim' }) },
        }),
        secret: secret(TOKEN),
      },
      want: 'deliver',
    },
    {
      name: 'a failure just now for another tenant: the new target is tried at once',
      state: {
        domain: domain({
          status: { lastDelivery: { ...failed(0, 3), target: { ...TARGET, tenantId: SP } } },
        }),
        secret: secret(TOKEN),
      },
      want: 'deliver',
    },
    {
      name: 'a rotated token (the last delivery was of another one)',
      state: {
        domain: domain({
          status: {
            lastDelivery: {
              time: at(-1000),
              fingerprint: tokenFingerprint(OTHER),
              result: 'Success',
              message: 'ok',
            },
          },
        }),
        secret: secret(TOKEN),
      },
      want: 'deliver',
    },
    {
      name: 'a failed attempt 4 s ago (backoff 10 s)',
      state: { domain: domain({ status: { lastDelivery: failed(-4000, 1) } }), secret: secret(TOKEN) },
      want: 'none:6000',
    },
    {
      name: 'a failed attempt 11 s ago (backoff 10 s over)',
      state: { domain: domain({ status: { lastDelivery: failed(-11_000, 1) } }), secret: secret(TOKEN) },
      want: 'deliver',
    },
    {
      name: 'three failures, the last 30 s ago (backoff 40 s)',
      state: { domain: domain({ status: { lastDelivery: failed(-30_000, 3) } }), secret: secret(TOKEN) },
      want: 'none:10000',
    },
    {
      name: 'a failure of the previous token, just now: the new one goes at once',
      state: {
        domain: domain({ status: { lastDelivery: failed(0, 5, tokenFingerprint(OTHER)) } }),
        secret: secret(TOKEN),
      },
      want: 'deliver',
    },
    {
      name: 'a suspended domain',
      state: { domain: domain({ suspend: true }), secret: secret(TOKEN) },
      want: 'none',
    },
    {
      name: 'a domain that is not Ready',
      state: { domain: domain({ ready: 'False' }), secret: secret(TOKEN) },
      want: 'none',
    },
    {
      name: 'a domain without a token',
      state: { domain: domain({ status: { token: undefined } }), secret: secret(undefined) },
      want: 'none',
    },
    {
      name: 'a revealed reveal-once token (no plaintext left)',
      state: { domain: domain(), secret: secret(undefined) },
      want: 'write',
    },
    {
      name: 'a Secret whose plaintext does not match status (never delivered)',
      state: { domain: domain(), secret: secret(OTHER) },
      want: 'write',
    },
    {
      name: 'no scimBaseUrl (CEL refuses it; an old object may still lack it)',
      state: { domain: domain({ scimBaseUrl: null }), secret: secret(TOKEN) },
      want: 'write',
    },
  ])('$name: $want', ({ state, want }) => {
    expect(summary(planDelivery(state, NOW))).toBe(want);
  });

  it('asks for the token, the base address and the credentials keys (defaults clientId/clientSecret)', () => {
    const d = planDelivery({ domain: domain(), secret: secret(TOKEN) }, NOW);
    expect(d).toEqual({
      kind: 'deliver',
      request: {
        cloud: 'Global',
        tenantId: TENANT,
        servicePrincipalId: SP,
        baseAddress: BASE_URL,
        credentials: { secretName: 'entra-app', clientIdKey: 'clientId', clientSecretKey: 'clientSecret' },
        token: TOKEN,
        tokenId: 'tok1',
        fingerprint: FP,
      },
    });
  });

  it('reports a revealed token once as Delivered=False, names the Secret, and then stays quiet', () => {
    const first = planDelivery({ domain: domain(), secret: secret(undefined) }, NOW);
    if (first.kind !== 'write') throw new Error(`expected a write, got ${first.kind}`);
    const status = statusOf(first.actions);
    const cond = getCondition(status.conditions, 'Delivered');
    expect(cond).toMatchObject({ status: 'False', reason: 'DeliveryFailed' });
    expect(cond?.message).toContain('plaintext is no longer in Secret acme-scim-token');
    expect(JSON.stringify(first.actions)).not.toContain(TOKEN);
    const later = domain({ status });
    expect(
      summary(planDelivery({ domain: later, secret: secret(undefined) }, new Date(NOW.getTime() + 60_000))),
    ).toBe('none');
  });

  it('removes the Delivered condition and lastDelivery when delivery is turned off', () => {
    const status = statusOf(recordDelivery(domain(), requestOf(), { ok: true }, NOW).actions);
    const d = planDelivery({ domain: domain({ delivery: false, status }), secret: secret(TOKEN) }, NOW);
    if (d.kind !== 'write') throw new Error(`expected a write, got ${d.kind}`);
    const next = statusOf(d.actions);
    expect(getCondition(next.conditions, 'Delivered')).toBeUndefined();
    expect(getCondition(next.conditions, 'Ready')?.status).toBe('True');
    expect(next.lastDelivery).toBeUndefined();
  });
});

function statusOf(actions: Action[]): ScimDomainStatus {
  const w = actions.find((a) => a.kind === 'writeStatus');
  if (!w || w.kind !== 'writeStatus') throw new Error('no status write');
  return w.status;
}

const requestOf = () => ({ fingerprint: FP, tokenId: 'tok1', ...TARGET });

describe('recordDelivery', () => {
  it('records a success: Delivered=True, lastDelivery with the fingerprint, a TokenDelivered Event', () => {
    const { actions, requeueAfterMs } = recordDelivery(domain(), requestOf(), { ok: true }, NOW);
    const status = statusOf(actions);
    expect(getCondition(status.conditions, 'Delivered')).toMatchObject({
      status: 'True',
      reason: 'TokenDelivered',
      observedGeneration: 3,
    });
    expect(status.lastDelivery).toEqual({
      time: NOW.toISOString(),
      fingerprint: FP,
      target: TARGET,
      result: 'Success',
      message: expect.stringContaining(SP) as string,
    });
    expect(actions.filter((a) => a.kind === 'event').map((a) => a.kind === 'event' && a.reason)).toEqual([
      'TokenDelivered',
    ]);
    expect(requeueAfterMs).toBeUndefined();
  });

  it('revokes an overlap previous token in the same status write once the new token is delivered', () => {
    const previous = overlapPrevious(at(3_600_000));
    const revokedTokens = Array.from({ length: 10 }, (_, i) => ({
      id: `r${i}`,
      fingerprint: `sha256:${String(i).repeat(12)}`,
      revokedAt: at(-i * 1000),
      reason: 'Rotated' as const,
    }));
    const { actions } = recordDelivery(
      domain({ status: { previousToken: previous, revokedTokens } }),
      requestOf(),
      { ok: true },
      NOW,
    );
    const status = statusOf(actions);
    expect(status.previousToken).toBeUndefined();
    expect(status.revokedTokens?.[0]).toEqual({
      id: 'old1',
      fingerprint: 'sha256:aaaaaaaaaaaa',
      revokedAt: NOW.toISOString(),
      reason: 'Rotated',
    });
    expect(status.revokedTokens).toHaveLength(10);
    expect(status.revokedTokens?.[9]?.id).toBe('r8');
    expect(actions.map((a) => (a.kind === 'event' ? a.reason : a.kind))).toEqual([
      'writeStatus',
      'TokenDelivered',
      'TokenRevoked',
    ]);
  });

  it.each([
    { before: undefined, failures: 1, requeue: 10_000 },
    { before: failed(-10_000, 1), failures: 2, requeue: 20_000 },
    { before: failed(-10_000, 6), failures: 7, requeue: 300_000 },
    { before: failed(-10_000, 3, tokenFingerprint(OTHER)), failures: 1, requeue: 10_000 },
  ])(
    'records failure number $failures in a row and comes back after $requeue ms',
    ({ before, failures, requeue }) => {
      const d = domain({ status: before ? { lastDelivery: before } : {} });
      const { actions, requeueAfterMs } = recordDelivery(
        d,
        requestOf(),
        { ok: false, message: 'HTTP 401' },
        NOW,
      );
      const status = statusOf(actions);
      expect(status.lastDelivery).toEqual({
        time: NOW.toISOString(),
        fingerprint: FP,
        target: TARGET,
        result: 'Failure',
        message: 'HTTP 401',
        failures,
      });
      expect(getCondition(status.conditions, 'Delivered')).toMatchObject({
        status: 'False',
        reason: 'DeliveryFailed',
        message: 'HTTP 401',
      });
      expect(actions[1]).toMatchObject({ kind: 'event', type: 'Warning', reason: 'DeliveryFailed' });
      expect(requeueAfterMs).toBe(requeue);
    },
  );

  it('keeps an overlap previous token when delivery fails (it expires on its own)', () => {
    const previous = overlapPrevious(at(60_000));
    const { actions } = recordDelivery(
      domain({ status: { previousToken: previous } }),
      requestOf(),
      { ok: false, message: 'HTTP 503' },
      NOW,
    );
    expect(statusOf(actions).previousToken).toEqual(previous);
  });

  it('waits at least as long as the server asked (Retry-After beyond the inline wait)', () => {
    const { requeueAfterMs } = recordDelivery(
      domain(),
      requestOf(),
      { ok: false, message: 'HTTP 429', retryAfterMs: 120_000 },
      NOW,
    );
    expect(requeueAfterMs).toBe(120_000);
  });
});

describe('deliveryBackoffMs', () => {
  it.each([
    [0, 10_000],
    [1, 10_000],
    [2, 20_000],
    [5, 160_000],
    [6, 300_000],
    [1000, 300_000],
  ])('after %i failures waits %i ms', (failures, want) => {
    expect(deliveryBackoffMs(failures)).toBe(want);
  });
});
