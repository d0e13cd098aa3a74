// Each policy of the ScimDomain chain on its own: the cases it decides (and how), and the cases it
// leaves to the next policy ("not mine"). planDomain's end-to-end behaviour is in plan.test.ts.
import { describe, expect, it } from 'vitest';
import type { ScimDomainStatus } from '../../api/types.js';
import { getCondition } from '../conditions.js';
import type { DomainPlan, SecretView } from './plan.js';
import {
  beingDeleted,
  claimedByOlderDomain,
  domainFacts,
  domainPolicies,
  issueToken,
  planDomain,
  secretNameChanged,
  secretNotOurs,
  suspended,
  tokenCurrent,
  unrecordedWrite,
  type DomainPolicy,
} from './policies.js';
import {
  NOW,
  SECRET,
  T1,
  T8,
  T9,
  OTHER_SEALER,
  apply,
  editSecret,
  editSpec,
  editStatus,
  fakeDeps,
  issuedWorld,
  observe,
  ownedSecret,
  acmeDomain,
  sealedAnnotations,
  tokenData,
  withoutSecret,
  type World,
} from '../../../test/support/world.js';

/** What a policy says about a world: its outcome, or undefined for "not mine". */
const decide = (policy: DomainPolicy, w: World) => policy(domainFacts(observe(w), fakeDeps()))?.outcome;

const kinds = (p: DomainPlan | undefined) => p?.actions.map((a) => a.kind);
const statusWritten = (p: DomainPlan | undefined): ScimDomainStatus | undefined => {
  const a = p?.actions.find((x) => x.kind === 'writeStatus');
  return a?.kind === 'writeStatus' ? a.status : undefined;
};

const inAMinute = new Date(Date.parse(NOW) + 60_000).toISOString();
const overlapping = (expiresAt: string) =>
  editStatus(issuedWorld(), (st) => ({
    ...st,
    previousToken: { id: T9.id, fingerprint: T9.fingerprint, sha256: T9.sha256, expiresAt },
  }));
/** The Secret holds T8, sealed by `sealer`, one generation ahead of status: a crashed write. */
const crashedWrite = (sealer = undefined as undefined | typeof OTHER_SEALER) =>
  editSecret(issuedWorld(), (s) => ({
    ...s,
    data: tokenData(T8),
    annotations: sealedAnnotations(T8, 2, 'Issued', undefined, sealer),
  }));
const foreignSecret = (w: World): World =>
  editSecret(w, (s): SecretView => ({ ...s, controllerUid: 'uid-someone-else' }));
const claimedBy = (w: World, namespace: string, creationTimestamp: string): World => ({
  ...w,
  claimants: [
    { namespace: w.domain.metadata.namespace, name: w.domain.metadata.name, creationTimestamp: NOW },
    { namespace, name: 'rival', creationTimestamp },
  ],
});
/** Suspended (generation 2) and unsuspended (3) before a reconcile recorded it. */
const suspendedAndBack = () => editSpec(editSpec(issuedWorld(), { suspend: true }), { suspend: false });

describe('the ScimDomain chain', () => {
  it('evaluates its policies in this order, and issues a token when none decides', () => {
    expect(domainPolicies.map((p) => p.name)).toEqual([
      'beingDeleted',
      'claimedByOlderDomain',
      'suspended',
      'secretNotOurs',
      'secretNameChanged',
      'tokenCurrent',
      'unrecordedWrite',
    ]);
  });

  it.each([
    {
      case: 'a deleted domain that is also suspended',
      w: () => editSpec(deleting(issuedWorld()), { suspend: true }),
      outcome: 'deleting',
    },
    {
      case: 'a suspended domain that lost its claim',
      w: () => editSpec(claimedBy(issuedWorld(), 'a-team', '2020-01-01T00:00:00Z'), { suspend: true }),
      outcome: 'domain-conflict',
    },
    {
      case: 'a suspended domain with a foreign Secret',
      w: () => editSpec(foreignSecret(issuedWorld()), { suspend: true }),
      outcome: 'suspended',
    },
    {
      case: 'a lost claim with a foreign Secret',
      w: () => foreignSecret(claimedBy(issuedWorld(), 'a-team', '2020-01-01T00:00:00Z')),
      outcome: 'domain-conflict',
    },
  ])('lets the earlier policy win: $case → $outcome', ({ w, outcome }) => {
    expect(planDomain(observe(w()), fakeDeps()).outcome).toBe(outcome);
  });
});

function deleting(w: World): World {
  return {
    ...w,
    domain: { ...w.domain, metadata: { ...w.domain.metadata, deletionTimestamp: new Date(NOW) } },
  };
}

describe('beingDeleted', () => {
  it.each([
    { case: 'a domain with a deletionTimestamp', w: () => deleting(issuedWorld()), want: 'deleting' },
    {
      case: 'a domain being deleted before it ever had a token',
      w: () => deleting({ domain: acmeDomain(), secrets: {} }),
      want: 'deleting',
    },
    { case: 'a live domain', w: () => issuedWorld(), want: undefined },
  ])('$case → $want', ({ w, want }) => {
    expect(decide(beingDeleted, w())).toBe(want);
    if (want) expect(beingDeleted(domainFacts(observe(w()), fakeDeps()))?.actions).toEqual([]);
  });
});

describe('claimedByOlderDomain', () => {
  it.each([
    { case: 'the only claim', w: () => issuedWorld(), want: undefined },
    {
      case: 'an older claim in another namespace',
      w: () => claimedBy(issuedWorld(), 'zz-team', '2020-01-01T00:00:00Z'),
      want: 'domain-conflict',
    },
    {
      case: 'a younger claim elsewhere',
      w: () => claimedBy(issuedWorld(), 'a-team', '2030-01-01T00:00:00Z'),
      want: undefined,
    },
    {
      case: 'a claim of the same instant from a namespace sorting first',
      w: () => claimedBy(issuedWorld(), 'a-team', NOW),
      want: 'domain-conflict',
    },
    {
      case: 'a claim of the same instant from a namespace sorting after',
      w: () => claimedBy(issuedWorld(), 'zz-team', NOW),
      want: undefined,
    },
  ])('$case → $want', ({ w, want }) => {
    expect(decide(claimedByOlderDomain, w())).toBe(want);
  });

  it.each([
    {
      case: 'holding a token',
      w: () => claimedBy(issuedWorld(), 'a-team', '2020-01-01T00:00:00Z'),
      kinds: ['writeStatus', 'event', 'replaceSecret', 'event'],
    },
    {
      case: 'already in conflict (no Event again, nothing to write)',
      w: () => {
        const w = claimedBy(issuedWorld(), 'a-team', '2020-01-01T00:00:00Z');
        return apply(w, claimedByOlderDomain(domainFacts(observe(w), fakeDeps()))!.actions);
      },
      kinds: [],
    },
  ])('revokes, scrubs and warns once: $case', ({ w, kinds: want }) => {
    const p = claimedByOlderDomain(domainFacts(observe(w()), fakeDeps()));
    expect(kinds(p)).toEqual(want);
    const status = statusWritten(p);
    if (status) {
      expect(status.token).toBeUndefined();
      expect(getCondition(status.conditions, 'Ready')).toMatchObject({
        status: 'False',
        reason: 'DomainConflict',
      });
      expect(getCondition(status.conditions, 'Stalled')).toMatchObject({
        status: 'True',
        reason: 'DomainConflict',
      });
    }
  });
});

describe('suspended', () => {
  it.each([
    { case: 'spec.suspend true', w: () => editSpec(issuedWorld(), { suspend: true }), want: 'suspended' },
    {
      case: 'spec.suspend true before any token',
      w: () => ({ domain: acmeDomain({ suspend: true }), secrets: {} }),
      want: 'suspended',
    },
    { case: 'spec.suspend false', w: () => editSpec(issuedWorld(), { suspend: false }), want: undefined },
    { case: 'spec.suspend unset', w: () => issuedWorld(), want: undefined },
  ])('$case → $want', ({ w, want }) => {
    expect(decide(suspended, w())).toBe(want);
  });

  it('revokes the token as Suspended with Ready=True reason Suspended, then scrubs the Secret', () => {
    const p = suspended(domainFacts(observe(editSpec(issuedWorld(), { suspend: true })), fakeDeps()));

    expect(kinds(p)).toEqual(['writeStatus', 'event', 'replaceSecret']);
    const status = statusWritten(p)!;
    expect(status.revokedTokens?.[0]).toMatchObject({ id: T1.id, reason: 'Suspended' });
    expect(getCondition(status.conditions, 'Ready')).toMatchObject({ status: 'True', reason: 'Suspended' });
  });
});

describe('secretNotOurs', () => {
  it.each([
    {
      case: 'a Secret controlled by another object',
      w: () => foreignSecret(issuedWorld()),
      want: 'secret-conflict',
    },
    {
      case: 'a Secret controlled by nobody',
      w: () => editSecret(issuedWorld(), (s) => ({ ...s, controllerUid: undefined })),
      want: 'secret-conflict',
    },
    { case: 'our own Secret', w: () => issuedWorld(), want: undefined },
    { case: 'no Secret', w: () => withoutSecret(issuedWorld()), want: undefined },
  ])('$case → $want', ({ w, want }) => {
    expect(decide(secretNotOurs, w())).toBe(want);
  });

  it('never plans a write to the Secret, only Stalled=True SecretConflict on the domain', () => {
    const p = secretNotOurs(domainFacts(observe(foreignSecret(issuedWorld())), fakeDeps()));

    expect(kinds(p)).toEqual(['writeStatus', 'event']);
    expect(getCondition(statusWritten(p)!.conditions, 'Stalled')).toMatchObject({ reason: 'SecretConflict' });
  });
});

describe('secretNameChanged', () => {
  const moved = () => editSpec(issuedWorld(), { secretName: 'acme-idp-token' });
  it.each([
    { case: 'spec.secretName changed', w: moved, want: 'moved' },
    { case: 'spec.secretName unchanged', w: () => issuedWorld(), want: undefined },
    {
      case: 'the old Secret is not ours',
      w: () => ({
        ...moved(),
        secrets: { [SECRET]: { ...ownedSecret(tokenData(T1), {}), controllerUid: 'x' } },
      }),
      want: undefined,
    },
    { case: 'the old Secret is gone too', w: () => withoutSecret(moved(), SECRET), want: undefined },
    {
      case: 'a Secret of the new name exists already',
      w: () => ({
        ...moved(),
        secrets: {
          ...moved().secrets,
          'acme-idp-token': ownedSecret(tokenData(T1), {}, { name: 'acme-idp-token' }),
        },
      }),
      want: undefined,
    },
  ])('$case → $want', ({ w, want }) => {
    expect(decide(secretNameChanged, w())).toBe(want);
  });

  it('creates the new Secret before the status write, and deletes the old one after it', () => {
    const p = secretNameChanged(domainFacts(observe(moved()), fakeDeps()));

    expect(kinds(p)).toEqual(['createSecret', 'writeStatus', 'deleteSecret', 'event']);
    expect(statusWritten(p)).toMatchObject({ secretName: 'acme-idp-token', token: { id: T1.id } });
  });
});

describe('tokenCurrent', () => {
  it.each([
    { case: 'the Secret holds the recorded token', w: () => issuedWorld(), want: 'up-to-date' },
    { case: 'an overlap still running', w: () => overlapping(inAMinute), want: 'up-to-date' },
    { case: 'an overlap that has ended', w: () => overlapping(NOW), want: 'up-to-date' },
    {
      case: 'a revealOnce token already revealed',
      w: () =>
        editSecret(issuedWorld({ revealOnce: true }), (s) => ({
          ...s,
          annotations: { ...s.annotations, 'scim.tokens.dev/revealed': 'true' },
        })),
      want: 'up-to-date',
    },
    { case: 'no token yet', w: () => ({ domain: acmeDomain(), secrets: {} }), want: undefined },
    { case: 'the Secret lost', w: () => withoutSecret(issuedWorld()), want: undefined },
    {
      case: 'the Secret edited to another token',
      w: () => editSecret(issuedWorld(), (s) => ({ ...s, data: tokenData(T9) })),
      want: undefined,
    },
    { case: 'a suspension undone before it was recorded', w: suspendedAndBack, want: undefined },
  ])('$case → $want', ({ w, want }) => {
    expect(decide(tokenCurrent, w())).toBe(want);
  });

  it.each([
    { case: 'nothing to do', w: () => issuedWorld(), kinds: [], requeue: undefined },
    { case: 'an overlap running for a minute', w: () => overlapping(inAMinute), kinds: [], requeue: 60_000 },
    {
      case: 'an overlap ending now',
      w: () => overlapping(NOW),
      kinds: ['writeStatus', 'event'],
      requeue: undefined,
    },
    {
      case: 'a Secret missing our label',
      w: () => editSecret(issuedWorld(), (s) => ({ ...s, labels: {} })),
      kinds: ['replaceSecret'],
      requeue: undefined,
    },
  ])('$case: writes $kinds', ({ w, kinds: want, requeue }) => {
    const p = tokenCurrent(domainFacts(observe(w()), fakeDeps()));

    expect(kinds(p)).toEqual(want);
    expect(p?.requeueAfterMs).toBe(requeue);
  });
});

describe('unrecordedWrite', () => {
  it.each([
    { case: 'a write the operator sealed, one generation ahead', w: () => crashedWrite(), want: 'adopted' },
    { case: 'the same write sealed with another key', w: () => crashedWrite(OTHER_SEALER), want: undefined },
    { case: 'the Secret holds the recorded token', w: () => issuedWorld(), want: undefined },
    { case: 'the Secret lost', w: () => withoutSecret(issuedWorld()), want: undefined },
  ])('$case → $want', ({ w, want }) => {
    expect(decide(unrecordedWrite, w())).toBe(want);
  });

  it('records the token the Secret holds without issuing one', () => {
    const deps = fakeDeps();
    const p = unrecordedWrite(domainFacts(observe(crashedWrite()), deps));

    expect(deps.issued).toEqual([]);
    expect(kinds(p)).toEqual(['writeStatus', 'event']);
    expect(statusWritten(p)?.token).toMatchObject({ id: T8.id, fingerprint: T8.fingerprint, generation: 2 });
  });
});

describe('issueToken', () => {
  it.each([
    {
      case: 'no token yet',
      w: () => ({ domain: acmeDomain(), secrets: {} }),
      outcome: 'issued',
      revoked: undefined,
    },
    {
      case: 'the Secret was deleted',
      w: () => withoutSecret(issuedWorld()),
      outcome: 'reissued-lost',
      revoked: 'SecretLost',
    },
    {
      case: 'the Secret was edited',
      w: () => editSecret(issuedWorld(), (s) => ({ ...s, data: tokenData(T9) })),
      outcome: 'reissued-tampered',
      revoked: 'SecretTampered',
    },
    {
      case: 'a write sealed with another key',
      w: () => crashedWrite(OTHER_SEALER),
      outcome: 'reissued-tampered',
      revoked: 'SecretTampered',
    },
    {
      case: 'a suspension undone before it was recorded',
      w: suspendedAndBack,
      outcome: 'reissued-suspended',
      revoked: 'Suspended',
    },
  ])('$case → $outcome', ({ w, outcome, revoked }) => {
    const deps = fakeDeps();
    const p = issueToken(domainFacts(observe(w()), deps));

    expect(p.outcome).toBe(outcome);
    expect(deps.issued).toHaveLength(1);
    const status = statusWritten(p)!;
    expect(status.token).toMatchObject({ id: deps.issued[0]!.id, sha256: deps.issued[0]!.sha256 });
    expect(status.revokedTokens?.[0]?.reason).toBe(revoked);
    // An old token is revoked even when the Secret write is refused: the write carries that status.
    const write = p.actions.find((a) => a.kind === 'createSecret' || a.kind === 'replaceSecret');
    const ifRefused = write && 'ifRefused' in write ? write.ifRefused : undefined;
    expect(ifRefused?.revokedTokens?.[0]?.reason).toBe(revoked);
    if (ifRefused) expect(ifRefused.token).toBeUndefined();
  });

  it('seals the new token, its generation and its cause for this domain', () => {
    const deps = fakeDeps();
    const p = issueToken(domainFacts(observe({ domain: acmeDomain(), secrets: {} }), deps));
    const write = p.actions[0];

    expect(write?.kind).toBe('createSecret');
    expect(write?.kind === 'createSecret' && write.content.annotations).toEqual(
      sealedAnnotations(deps.issued[0]!, 1, 'Issued'),
    );
  });
});
