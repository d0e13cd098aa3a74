import type { CoreV1Event } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ScimDomain, ScimTokenRotation } from '../api/types.js';
import { readyCondition, scimDomain } from '../../test/support/index.js';
import { domainReport, parseAge, renderReport } from './report.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const token = {
  id: 'tok-a',
  fingerprint: 'sha256:aaaaaaaaaaaa',
  sha256: 'a'.repeat(64),
  issuedAt: '2026-01-01T00:00:00Z',
  generation: 3,
};
const ready = readyCondition({ message: 'token tok-a (sha256:aaaaaaaaaaaa) is current' });

function domain(spec: Record<string, unknown> = {}, status: Record<string, unknown> = {}): ScimDomain {
  return scimDomain({
    metadata: { namespace: 'team-a' },
    spec: { identityProvider: 'EntraID', ...spec },
    status: {
      observedGeneration: 1,
      conditions: [ready],
      token,
      secretName: 'contoso-scim-token',
      ...status,
    },
  });
}

function rotation(
  name: string,
  spec: Record<string, unknown>,
  status: Record<string, unknown> = {},
): ScimTokenRotation {
  return {
    metadata: { name, namespace: 'team-a', creationTimestamp: '2026-02-01T00:00:00Z' as unknown as Date },
    spec: { domainRef: { name: 'contoso' }, ...spec },
    status,
  };
}

function event(name: string, reason: string, at: string): CoreV1Event {
  return {
    metadata: { name: `${name}.${reason}` },
    involvedObject: { kind: 'ScimDomain', name },
    type: 'Normal',
    reason,
    message: `${reason} happened`,
    lastTimestamp: new Date(at),
    reportingInstance: 'scim-token-operator-6d5f-x2k4q',
  };
}

describe('parseAge', () => {
  it.each([
    ['90d', 90 * 86_400_000],
    ['2160h', 2160 * 3_600_000],
    ['1h30m', 5_400_000],
    ['45s', 45_000],
    ['0s', undefined],
    ['soon', undefined],
    ['', undefined],
  ])('reads %j', (text, ms) => {
    expect(parseAge(text)).toBe(ms);
  });
});

describe('domainReport', () => {
  it('shows only what the object has: no max age, overlap or delivery sections without those fields', () => {
    const r = domainReport(domain(), [], [], NOW);
    expect(r).toMatchObject({
      namespace: 'team-a',
      name: 'contoso',
      ready: { status: 'True', reason: 'TokenIssued' },
    });
    expect(r).not.toHaveProperty('maxTokenAge');
    expect(r).not.toHaveProperty('previousToken');
    expect(r).not.toHaveProperty('delivery');
    const text = renderReport(r, NOW);
    expect(text).toContain('Token:         tok-a sha256:aaaaaaaaaaaa, issued 59d ago (generation 3)');
    expect(text).not.toMatch(/Max age|Overlap|Delivery/);
  });

  it.each([
    ['90d', false, 'due in 30d'],
    ['30d', true, 'OVERDUE since 29d'],
  ])('with spec.maxTokenAge %s says when the token is due (overdue: %s)', (maxTokenAge, overdue, says) => {
    const r = domainReport(domain({ maxTokenAge }), [], [], NOW);
    expect(r.maxTokenAge).toMatchObject({ maxAge: maxTokenAge, overdue });
    expect(renderReport(r, NOW)).toContain(says);
  });

  it('reports an overlap in progress and delivery when status has them', () => {
    const r = domainReport(
      domain(
        { delivery: { entraID: { servicePrincipalId: 'sp-1' } } },
        {
          previousToken: {
            id: 'tok-old',
            fingerprint: 'sha256:bbbbbbbbbbbb',
            expiresAt: '2026-03-01T13:00:00Z',
          },
          conditions: [
            ready,
            { ...ready, type: 'Delivered', reason: 'Delivered', message: 'written to Entra ID' },
          ],
          lastRotation: {
            name: 'contoso-rotate-x',
            uid: 'u',
            time: '2026-03-01T11:00:00Z',
            requestedBy: 'alice',
          },
        },
      ),
      [],
      [],
      NOW,
    );
    const text = renderReport(r, NOW);
    expect(text).toContain(
      'previous token tok-old sha256:bbbbbbbbbbbb still verifies until 2026-03-01T13:00:00Z',
    );
    expect(text).toContain('Entra ID service principal sp-1; Delivered=True Delivered: written to Entra ID');
    expect(text).toContain('contoso-rotate-x 60m ago (requested by alice)');
  });

  it('lists this domain’s rotations, newest first, with schedule and next run', () => {
    const r = domainReport(
      domain(),
      [
        rotation(
          'contoso-now',
          {},
          { rotatedAt: '2026-02-01T00:01:00Z', conditions: [{ ...ready, reason: 'Rotated' }] },
        ),
        {
          ...rotation(
            'contoso-monthly',
            { schedule: '0 3 1 * *', timeZone: 'Europe/Berlin' },
            {
              nextScheduleTime: '2026-04-01T01:00:00Z',
              conditions: [{ ...ready, reason: 'Scheduled' }],
            },
          ),
          metadata: {
            name: 'contoso-monthly',
            namespace: 'team-a',
            creationTimestamp: '2026-02-15T00:00:00Z',
          },
        } as unknown as ScimTokenRotation,
        rotation('other', { domainRef: { name: 'fabrikam' } }),
      ],
      [],
      NOW,
    );
    expect(r.rotations.map((x) => x.name)).toEqual(['contoso-monthly', 'contoso-now']);
    const text = renderReport(r, NOW);
    expect(text).toMatch(/contoso-monthly\s+0 3 1 \* \* Europe\/Berlin\s+True\s+Scheduled\s+-\s+in 30d/);
    expect(text).toMatch(/contoso-now\s+one-shot\s+True\s+Rotated\s+28d ago/);
  });

  it('keeps the 10 most recent Events, newest first, with the pod that reported them', () => {
    const events = Array.from({ length: 12 }, (_, i) =>
      event('contoso', `Reason${i}`, `2026-03-01T11:${String(i).padStart(2, '0')}:00Z`),
    );
    const r = domainReport(domain(), [], events, NOW);
    expect(r.events.map((e) => e.reason)).toEqual([
      'Reason11',
      'Reason10',
      'Reason9',
      'Reason8',
      'Reason7',
      'Reason6',
      'Reason5',
      'Reason4',
      'Reason3',
      'Reason2',
    ]);
    expect(r.events[0]).toMatchObject({
      object: 'ScimDomain/contoso',
      reportingInstance: 'scim-token-operator-6d5f-x2k4q',
    });
  });

  it('says a suspended domain is suspended and holds no token', () => {
    const d = domain(
      { suspend: true },
      {
        token: undefined,
        conditions: [{ ...ready, reason: 'Suspended', message: 'provisioning is suspended' }],
      },
    );
    const text = renderReport(domainReport(d, [], [], NOW), NOW);
    expect(text).toContain('Ready:         True Suspended — provisioning is suspended');
    expect(text).toContain('Suspended:     yes');
    expect(text).toContain('Token:         none');
  });
});
