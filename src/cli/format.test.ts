import { describe, expect, it } from 'vitest';
import type { ScimDomain } from '../api/types.js';
import { readyCondition, scimDomain } from '../../test/support/index.js';
import { domainRow, domainsTable, formatAge, readiness, renderTable } from './format.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('formatAge', () => {
  it.each([
    [-5 * S, '0s'],
    [45 * S, '45s'],
    [119 * S, '119s'],
    [5 * M + 30 * S, '5m30s'],
    [5 * M, '5m'],
    [42 * M, '42m'],
    [3 * H + 20 * M, '3h20m'],
    [30 * H, '30h'],
    [2 * D + 4 * H, '2d4h'],
    [40 * D, '40d'],
    [3 * 365 * D + 10 * D, '3y10d'],
    [9 * 365 * D, '9y'],
  ])('prints %d ms as %s, like kubectl', (ms, want) => {
    expect(formatAge(ms)).toBe(want);
  });
});

describe('renderTable', () => {
  it('aligns columns three spaces apart and trims trailing space', () => {
    expect(
      renderTable(
        ['A', 'BB'],
        [
          ['long', 'x'],
          ['s', ''],
        ],
      ),
    ).toBe('A      BB\nlong   x\ns\n');
  });
});

const now = new Date('2026-01-10T12:00:00Z');
function domain(over: Partial<ScimDomain> = {}): ScimDomain {
  return {
    ...scimDomain({
      metadata: { name: 'contoso', namespace: 'team-a', generation: 2 },
      spec: { identityProvider: 'EntraID' },
      status: {
        conditions: [readyCondition({ lastTransitionTime: '2026-01-10T11:00:00Z', observedGeneration: 2 })],
        token: {
          id: 'tok-0123456789',
          fingerprint: 'sha256:3f9c0a1b2c4d',
          sha256: 'a'.repeat(64),
          issuedAt: '2026-01-10T11:55:00Z',
          generation: 3,
        },
        lastRotation: { name: 'contoso-rotate-x', uid: 'u', time: '2026-01-08T12:00:00Z' },
      },
    }),
    ...over,
  };
}

describe('the domains table', () => {
  it('shows namespace, name, domain, IdP, readiness with reason, fingerprint, token age and last rotation', () => {
    expect(domainRow(domain(), now)).toEqual([
      'team-a',
      'contoso',
      'contoso.example',
      'EntraID',
      'True',
      'TokenIssued',
      'sha256:3f9c0a1b2c4d',
      '5m',
      '2d ago (contoso-rotate-x)',
    ]);
  });

  it('shows a domain the operator has not seen yet as Unknown NotReconciled, with no token and never rotated', () => {
    const d = domain({ status: undefined });
    expect(domainRow(d, now)).toEqual([
      'team-a',
      'contoso',
      'contoso.example',
      'EntraID',
      'Unknown',
      'NotReconciled',
      '-',
      '-',
      'never',
    ]);
  });

  it('marks a condition about an older generation as reconciling', () => {
    const d = domain({ metadata: { name: 'contoso', namespace: 'team-a', generation: 3 } });
    expect(readiness(d)).toEqual({ ready: 'True', reason: 'TokenIssued (Reconciling)' });
  });

  it('sorts by namespace, then name, under a header row', () => {
    const a = domain({ metadata: { name: 'b', namespace: 'x', generation: 2 } });
    const b = domain({ metadata: { name: 'a', namespace: 'x', generation: 2 } });
    const c = domain({ metadata: { name: 'z', namespace: 'a', generation: 2 } });
    const lines = domainsTable([a, b, c], now).trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^NAMESPACE\s+NAME\s+DOMAIN\s+IDP\s+READY\s+REASON\s+TOKEN\s+TOKEN AGE\s+LAST ROTATION$/,
    );
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2).join('/'))).toEqual(['a/z', 'x/a', 'x/b']);
  });
});
