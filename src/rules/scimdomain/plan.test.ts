import { describe, expect, it } from 'vitest';
import {
  GENERATION_ANNOTATION,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  REVEALED_ANNOTATION,
  type RevokedToken,
  type ScimDomain,
  type ScimDomainSpec,
  type ScimDomainStatus,
  type TokenStatus,
} from '../../api/types.js';
import { getCondition, type Condition } from '../conditions.js';
import {
  CAUSE_ANNOTATION,
  domainOwner,
  effectiveSecretName,
  judgeSecret,
  LAST_APPLIED_ANNOTATION,
  observeGeneration,
  suspendedSinceRecorded,
  type GenerationHistory,
  statusUnchanged,
  type Action,
  type Claimant,
  type DomainPlan,
  type IssueCause,
  type PlanDeps,
  type SecretView,
} from './plan.js';
import { tokenSha256 } from '../token.js';
import { planDomain } from './policies.js';
import {
  apply,
  claimantOf,
  editSecret,
  editSpec,
  editStatus,
  observe,
  withoutSecret,
  type World,
  NOW,
  CREATED,
  UID,
  NS,
  NAME,
  DOMAIN,
  SECRET,
  BASE_URL,
  T1,
  T2,
  T8,
  T9,
  SEALER,
  OTHER_SEALER,
  fakeDeps,
  acmeDomain,
  tokenStatus,
  tokenData,
  generationAnnotations,
  sealedAnnotations,
  ownedSecret,
  issuedWorld,
} from '../../../test/support/world.js';

// ---------------------------------------------------------------------------------------------------
// Reading plans

const kinds = (plan: DomainPlan) => plan.actions.map((a) => a.kind);

type ActionOf<K extends Action['kind']> = Extract<Action, { kind: K }>;

function only<K extends Action['kind']>(plan: DomainPlan, kind: K): ActionOf<K> {
  const found = plan.actions.filter((a): a is ActionOf<K> => a.kind === kind);
  const [first] = found;
  if (found.length !== 1 || !first) {
    throw new Error(`expected one ${kind} action, got [${kinds(plan).join(', ')}]`);
  }
  return first;
}

const statusOf = (plan: DomainPlan) => only(plan, 'writeStatus').status;
const eventsOf = (plan: DomainPlan) => plan.actions.filter((a): a is ActionOf<'event'> => a.kind === 'event');
const secretWrites = (plan: DomainPlan) =>
  plan.actions.filter((a) => a.kind === 'createSecret' || a.kind === 'replaceSecret');

function condition(status: ScimDomainStatus, type: string): Condition | undefined {
  return getCondition(status.conditions, type);
}

/** What the watch saw of the domain `uid`: generations `from` to `to`, the last suspended one. */
const seen = (from: number, to: number, lastSuspended: number, uid = UID): GenerationHistory => ({
  uid,
  from,
  to,
  lastSuspended,
});

function plan(w: World, deps: PlanDeps = fakeDeps()): DomainPlan {
  return planDomain(observe(w), deps);
}

// ---------------------------------------------------------------------------------------------------

describe('effectiveSecretName', () => {
  it.each([
    { case: 'defaults to <metadata.name>-scim-token', spec: {}, name: 'acme', want: 'acme-scim-token' },
    {
      case: 'uses spec.secretName when it is set',
      spec: { secretName: 'idp-token' },
      name: 'acme',
      want: 'idp-token',
    },
  ])('$case', ({ spec, name, want }) => {
    expect(effectiveSecretName(acmeDomain(spec, { name }))).toBe(want);
  });
});

describe('domainOwner', () => {
  const claim = (namespace: string, name: string, creationTimestamp = CREATED): Claimant => ({
    namespace,
    name,
    creationTimestamp,
  });

  it.each([
    { case: 'there is no owner when nobody claims the domain', claimants: [], owner: undefined },
    { case: 'a sole claimant owns the domain', claimants: [claim('a', 'x')], owner: claim('a', 'x') },
    {
      case: 'the oldest claim wins whatever the order of the list',
      claimants: [
        claim('a', 'young', '2025-05-01T00:00:00Z'),
        claim('z', 'old', '2025-01-01T00:00:00Z'),
        claim('m', 'middle', '2025-03-01T00:00:00Z'),
      ],
      owner: claim('z', 'old', '2025-01-01T00:00:00Z'),
    },
    {
      case: 'a tie on creationTimestamp goes to the first namespace',
      claimants: [claim('team-b', 'acme'), claim('team-a', 'zeta')],
      owner: claim('team-a', 'zeta'),
    },
    {
      case: 'a tie in the same namespace goes to the first name',
      claimants: [claim('team-a', 'zeta'), claim('team-a', 'alpha')],
      owner: claim('team-a', 'alpha'),
    },
  ])('$case', ({ claimants, owner }) => {
    expect(domainOwner(claimants)).toEqual(owner);
  });

  it('does not reorder the list it is given', () => {
    const claimants = Object.freeze([claim('b', 'x', '2025-02-01T00:00:00Z'), claim('a', 'x')]);

    domainOwner(claimants);

    expect(claimants.map((c) => c.namespace)).toEqual(['b', 'a']);
  });
});

describe('statusUnchanged', () => {
  const ready = (over: Partial<Condition> = {}): Condition => ({
    type: 'Ready',
    status: 'True',
    reason: 'TokenIssued',
    message: 'current',
    lastTransitionTime: CREATED,
    observedGeneration: 1,
    ...over,
  });
  const stalled: Condition = {
    type: 'Stalled',
    status: 'True',
    reason: 'DomainConflict',
    message: 'claimed',
    lastTransitionTime: CREATED,
  };
  const revoked = (id: string): RevokedToken => ({
    id,
    fingerprint: 'sha256:000000000000',
    revokedAt: CREATED,
    reason: 'Rotated',
  });
  const base: ScimDomainStatus = {
    observedGeneration: 1,
    conditions: [ready(), stalled],
    secretName: SECRET,
    token: tokenStatus(T1, 1),
    revokedTokens: [revoked('tok-a'), revoked('tok-b')],
  };

  it.each<{ case: string; a: ScimDomainStatus | undefined; b: ScimDomainStatus }>([
    { case: 'a missing status and an empty one', a: undefined, b: {} },
    { case: 'two identical statuses', a: base, b: structuredClone(base) },
    {
      case: 'statuses that differ only in lastTransitionTime',
      a: base,
      b: {
        ...base,
        conditions: [ready({ lastTransitionTime: NOW }), { ...stalled, lastTransitionTime: NOW }],
      },
    },
    {
      case: 'statuses listing the same conditions in another order',
      a: base,
      b: { ...base, conditions: [stalled, ready()] },
    },
    {
      case: 'statuses whose keys are in another order or set to undefined',
      a: base,
      b: {
        revokedTokens: base.revokedTokens,
        token: {
          generation: 1,
          sha256: T1.sha256,
          issuedAt: CREATED,
          fingerprint: T1.fingerprint,
          id: T1.id,
        },
        lastRotation: undefined,
        secretName: SECRET,
        conditions: base.conditions,
        observedGeneration: 1,
      },
    },
  ])('treats $case as unchanged', ({ a, b }) => {
    expect(statusUnchanged(a, b)).toBe(true);
  });

  it.each<{ case: string; a: ScimDomainStatus | undefined; b: ScimDomainStatus }>([
    { case: 'a missing status and one with a condition', a: undefined, b: { conditions: [ready()] } },
    {
      case: 'a different Ready reason',
      a: base,
      b: { ...base, conditions: [ready({ reason: 'X' }), stalled] },
    },
    {
      case: 'a different Ready message',
      a: base,
      b: { ...base, conditions: [ready({ message: 'other' }), stalled] },
    },
    {
      case: 'a different condition observedGeneration',
      a: base,
      b: { ...base, conditions: [ready({ observedGeneration: 2 }), stalled] },
    },
    { case: 'a condition that went away', a: base, b: { ...base, conditions: [ready()] } },
    { case: 'a different observedGeneration', a: base, b: { ...base, observedGeneration: 2 } },
    { case: 'a different token', a: base, b: { ...base, token: tokenStatus(T2, 2) } },
    { case: 'a token that went away', a: base, b: { ...base, token: undefined } },
    { case: 'a different secretName', a: base, b: { ...base, secretName: 'other' } },
    {
      case: 'revokedTokens in another order',
      a: base,
      b: { ...base, revokedTokens: [revoked('tok-b'), revoked('tok-a')] },
    },
  ])('treats $case as a change', ({ a, b }) => {
    expect(statusUnchanged(a, b)).toBe(false);
  });
});

describe('judgeSecret', () => {
  const R1 = tokenStatus(T1, 1);
  const malformed = `${T8.token.slice(0, -1)}${T8.token.endsWith('0') ? '1' : '0'}`;

  it.each<{ case: string; secret: SecretView | undefined; recorded?: TokenStatus; kind: string }>([
    { case: 'that does not exist', secret: undefined, recorded: R1, kind: 'missing' },
    {
      case: 'controlled by another object',
      secret: ownedSecret(tokenData(T1), generationAnnotations(1), { controllerUid: 'someone-else' }),
      recorded: R1,
      kind: 'foreign',
    },
    {
      case: 'with no controller at all (created by hand)',
      secret: { ...ownedSecret(tokenData(T1), generationAnnotations(1)), controllerUid: undefined },
      recorded: R1,
      kind: 'foreign',
    },
    {
      case: 'holding the recorded token',
      secret: ownedSecret(tokenData(T1), generationAnnotations(1, 'Issued')),
      recorded: R1,
      kind: 'consistent',
    },
    {
      case: 'whose plaintext was removed after a reveal',
      secret: ownedSecret(
        { 'token-sha256': T1.sha256, 'token-id': T1.id, domain: DOMAIN },
        generationAnnotations(1),
      ),
      recorded: R1,
      kind: 'consistent',
    },
    {
      case: 'whose token was edited but not its hash',
      secret: ownedSecret(tokenData(T1, { token: T9.token }), generationAnnotations(1)),
      recorded: R1,
      kind: 'tampered',
    },
    {
      case: 'whose hash was edited but not its token',
      secret: ownedSecret(tokenData(T1, { 'token-sha256': T9.sha256 }), generationAnnotations(1)),
      recorded: R1,
      kind: 'tampered',
    },
    {
      case: 'whose token and hash were both replaced at the recorded generation',
      secret: ownedSecret(tokenData(T9), generationAnnotations(1)),
      recorded: R1,
      kind: 'tampered',
    },
    {
      case: 'two generations ahead of status with a self-consistent token',
      secret: ownedSecret(tokenData(T8), generationAnnotations(3, 'Rotated')),
      recorded: R1,
      kind: 'tampered',
    },
    {
      case: 'one generation ahead with a token whose checksum is wrong',
      secret: ownedSecret(
        tokenData(T8, { token: malformed, 'token-sha256': tokenSha256(malformed) }),
        generationAnnotations(2, 'Rotated'),
      ),
      recorded: R1,
      kind: 'tampered',
    },
    {
      case: 'one generation ahead with a token that does not match its own hash',
      secret: ownedSecret(tokenData(T8, { 'token-sha256': T9.sha256 }), generationAnnotations(2, 'Rotated')),
      recorded: R1,
      kind: 'tampered',
    },
    {
      case: 'without a token when status records none',
      secret: ownedSecret({ domain: DOMAIN }, generationAnnotations(4)),
      kind: 'empty',
    },
  ])('judges a Secret $case as $kind', ({ secret, recorded, kind }) => {
    expect(judgeSecret(secret, UID, recorded, [], SEALER).kind).toBe(kind);
  });

  it.each<{ case: string; annotations: Record<string, string>; recorded?: TokenStatus; want: object }>([
    {
      case: 'one generation ahead of status after a lost Secret',
      annotations: sealedAnnotations(T8, 2, 'SecretLost'),
      recorded: R1,
      want: { generation: 2, cause: 'SecretLost' },
    },
    {
      case: 'one generation ahead of status after a rotation',
      annotations: sealedAnnotations(T8, 2, 'Rotated', { key: 'uid-rotation-1', name: 'rotate-1' }),
      recorded: R1,
      want: { generation: 2, cause: 'Rotated', rotationUid: 'uid-rotation-1', rotationName: 'rotate-1' },
    },
    {
      case: 'holding a first token that status has not recorded yet',
      annotations: sealedAnnotations(T8, 1, 'Issued'),
      want: { generation: 1, cause: 'Issued' },
    },
  ])('judges a sealed Secret $case as pending, carrying its token', ({ annotations, recorded, want }) => {
    const verdict = judgeSecret(ownedSecret(tokenData(T8), annotations), UID, recorded, [], SEALER);

    expect(verdict).toEqual({ kind: 'pending', token: T8.token, id: T8.id, ...want });
  });

  // SPEC §2.3: only a token the operator itself wrote is adopted. Each of these is what a user who may
  // write the Secret (the namespace edit role) can produce; none is adopted.
  const rotation = { key: 'uid-rotation-1', name: 'rotate-1' };
  it.each<{ case: string; annotations: Record<string, string>; data?: Record<string, string> }>([
    { case: 'without a seal', annotations: generationAnnotations(2, 'Rotated') },
    {
      case: 'sealed under another key',
      annotations: sealedAnnotations(T8, 2, 'Rotated', rotation, OTHER_SEALER),
    },
    {
      case: 'whose seal belongs to another domain',
      annotations: sealedAnnotations(T8, 2, 'Rotated', rotation, SEALER, 'uid-another-domain'),
    },
    {
      case: 'whose seal covers another token',
      annotations: sealedAnnotations(T9, 2, 'Rotated', rotation),
    },
    {
      case: 'whose rotation key was changed after sealing (pre-empting a scheduled run)',
      annotations: {
        ...sealedAnnotations(T8, 2, 'Rotated', rotation),
        'scim.tokens.dev/rotation-uid': 'uid-schedule@2025-06-01T13:00:00.000Z',
      },
    },
    {
      case: 'whose cause was changed after sealing',
      annotations: { ...sealedAnnotations(T8, 2, 'Rotated', rotation), [CAUSE_ANNOTATION]: 'SecretLost' },
    },
    {
      case: 'whose token id is not one the operator makes',
      annotations: sealedAnnotations({ ...T8, id: 'tok-<script>' }, 2, 'Rotated', rotation),
      data: tokenData(T8, { 'token-id': 'tok-<script>' }),
    },
    {
      case: 'sealed one generation too far ahead',
      annotations: { ...sealedAnnotations(T8, 3, 'Rotated', rotation), [GENERATION_ANNOTATION]: '2' },
    },
  ])('judges a planted Secret one generation ahead $case as tampered', ({ annotations, data }) => {
    const secret = ownedSecret(data ?? tokenData(T8), annotations);

    expect(judgeSecret(secret, UID, tokenStatus(T1, 1), [], SEALER).kind).toBe('tampered');
  });

  it('never adopts a sealed token that was revoked before', () => {
    const secret = ownedSecret(tokenData(T8), sealedAnnotations(T8, 2, 'Rotated', rotation));
    const revoked: RevokedToken[] = [
      { id: T8.id, fingerprint: T8.fingerprint, revokedAt: CREATED, reason: 'Rotated' },
    ];

    expect(judgeSecret(secret, UID, tokenStatus(T1, 1), revoked, SEALER).kind).toBe('tampered');
  });

  it('reports the generation of a Secret that holds no token and no record', () => {
    expect(
      judgeSecret(ownedSecret({ domain: DOMAIN }, generationAnnotations(4)), UID, undefined, [], SEALER),
    ).toEqual({
      kind: 'empty',
      generation: 4,
    });
  });
});

describe('planDomain', () => {
  describe('issuing', () => {
    const newDomain = (spec: Partial<ScimDomainSpec> = {}): World => ({
      domain: acmeDomain(spec),
      secrets: {},
    });

    it('writes the Secret, then the status, then a TokenIssued event for a new domain', () => {
      expect(kinds(plan(newDomain()))).toEqual(['createSecret', 'writeStatus', 'event']);
    });

    it.each([
      { case: 'with a scimBaseUrl', spec: { scimBaseUrl: BASE_URL }, extra: { scimBaseUrl: BASE_URL } },
      { case: 'without a scimBaseUrl', spec: {}, extra: {} },
    ])('creates a Secret holding the token, its hash, id and the domain $case', ({ spec, extra }) => {
      const deps = fakeDeps();

      const create = only(plan(newDomain(spec), deps), 'createSecret');

      expect(create.name).toBe(SECRET);
      expect(create.content.data).toEqual({
        token: T2.token,
        'token-sha256': T2.sha256,
        'token-id': T2.id,
        domain: DOMAIN,
        ...extra,
      });
      expect(create.content.labels).toEqual({ [MANAGED_BY_LABEL]: MANAGED_BY });
      expect(create.content.annotations).toMatchObject({ [GENERATION_ANNOTATION]: '1' });
      expect(deps.issued).toEqual([T2]);
    });

    it('creates the Secret under spec.secretName when one is set', () => {
      expect(only(plan(newDomain({ secretName: 'idp-token' })), 'createSecret').name).toBe('idp-token');
    });

    it('stamps status Ready=True TokenIssued with the token description and no other condition', () => {
      const status = statusOf(plan(newDomain()));

      expect(status).toEqual({
        observedGeneration: 1,
        secretName: SECRET,
        token: { id: T2.id, fingerprint: T2.fingerprint, sha256: T2.sha256, issuedAt: NOW, generation: 1 },
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'TokenIssued',
            message: expect.stringContaining(T2.id) as string,
            lastTransitionTime: NOW,
            observedGeneration: 1,
          },
        ],
      });
    });

    it('records a fingerprint that is sha256: plus the first 12 hex characters of the hash', () => {
      const token = statusOf(plan(newDomain())).token;

      expect(token?.fingerprint).toBe(`sha256:${T2.sha256.slice(0, 12)}`);
    });

    it('emits a Normal TokenIssued event naming the token id and fingerprint', () => {
      const [event] = eventsOf(plan(newDomain()));

      expect(event).toMatchObject({ type: 'Normal', reason: 'TokenIssued' });
      expect(event?.message).toContain(T2.id);
      expect(event?.message).toContain(T2.fingerprint);
    });

    it('writes nothing when Secret and status agree, even if the conditions carry other times', () => {
      const w = editStatus(issuedWorld(), (s) => ({
        ...s,
        conditions: (s.conditions ?? []).map((c) => ({ ...c, lastTransitionTime: '2020-01-01T00:00:00Z' })),
      }));
      const deps = fakeDeps();

      const p = plan(w, deps);

      expect(p.actions).toEqual([]);
      expect(deps.issued).toEqual([]);
    });

    it('only bumps observedGeneration when a spec edit changes nothing the Secret holds', () => {
      const w = editSpec(issuedWorld(), { identityProvider: 'Okta' });

      const p = plan(w);

      expect(kinds(p)).toEqual(['writeStatus']);
      expect(statusOf(p)).toMatchObject({ observedGeneration: 2, token: tokenStatus(T1, 1, NOW) });
      expect(condition(statusOf(p), 'Ready')).toMatchObject({ status: 'True', observedGeneration: 2 });
    });

    it('restores the managed-by label on the Secret without touching the token', () => {
      const w = editSecret(issuedWorld(), (s) => ({ ...s, labels: {} }));

      const p = plan(w);

      expect(kinds(p)).toEqual(['replaceSecret']);
      expect(only(p, 'replaceSecret').content).toMatchObject({
        labels: { [MANAGED_BY_LABEL]: MANAGED_BY },
        data: tokenData(T1),
      });
    });
  });

  // Every path the planner can take, as a world before the reconcile, for properties all paths share.
  const scenarios: { name: string; world: () => World }[] = [
    { name: 'a new domain is issued its first token', world: () => ({ domain: acmeDomain(), secrets: {} }) },
    { name: 'a deleted Secret is replaced', world: () => withoutSecret(issuedWorld()) },
    {
      name: 'a hand-edited Secret is replaced',
      world: () => editSecret(issuedWorld(), (s) => ({ ...s, data: tokenData(T9) })),
    },
    {
      name: 'an unrecorded Secret write is adopted',
      world: () =>
        editSecret(issuedWorld(), (s) => ({
          ...s,
          data: tokenData(T8),
          annotations: generationAnnotations(2, 'SecretLost'),
        })),
    },
    {
      name: 'the token moves to a renamed Secret',
      world: () => editSpec(issuedWorld(), { secretName: 'acme-idp-token' }),
    },
    { name: 'a domain is suspended', world: () => editSpec(issuedWorld(), { suspend: true }) },
    {
      name: 'a suspended domain is resumed',
      world: () => {
        const suspended = editSpec(issuedWorld(), { suspend: true });
        return editSpec(apply(suspended, plan(suspended).actions), { suspend: false });
      },
    },
    {
      name: 'a revealed token leaves a reveal-once Secret',
      world: () =>
        editSecret(issuedWorld({ revealOnce: true }), (s) => ({
          ...s,
          annotations: { ...s.annotations, [REVEALED_ANNOTATION]: 'true' },
        })),
    },
    {
      name: 'the SCIM base URL changes',
      world: () =>
        editSpec(issuedWorld({ scimBaseUrl: BASE_URL }), { scimBaseUrl: 'https://idp.example.com/scim' }),
    },
    {
      name: 'a younger claimant meets the owner of its domain',
      world: () => ({
        domain: acmeDomain(),
        secrets: {},
        claimants: [
          { namespace: NS, name: NAME, creationTimestamp: CREATED },
          { namespace: 'team-b', name: 'acme', creationTimestamp: '2025-01-01T00:00:00Z' },
        ],
      }),
    },
    {
      name: 'a foreign Secret holds the name',
      world: () => ({
        domain: acmeDomain(),
        secrets: { [SECRET]: ownedSecret(tokenData(T9), {}, { controllerUid: 'someone-else' }) },
      }),
    },
  ];

  describe('keeping the token secret', () => {
    it.each(scenarios)(
      'puts no plaintext token into status, events or the outcome when $name',
      ({ world }) => {
        const w = world();
        const deps = fakeDeps();
        const seen = [...Object.values(w.secrets).map((s) => s.data.token), T1.token, T8.token, T9.token];

        const p = planDomain(observe(w), deps);

        const plaintexts = [...seen, ...deps.issued.map((t) => t.token)].filter((t): t is string => !!t);
        const public_ = JSON.stringify([p.outcome, ...p.actions.filter((a) => !('content' in a))]);
        for (const t of plaintexts) expect(public_).not.toContain(t);
        for (const e of eventsOf(p)) expect(e.message).not.toMatch(/sct_/);
      },
    );
  });

  describe('settling', () => {
    it.each(scenarios)(
      'writes nothing on the next reconcile after applying the plan when $name',
      ({ world }) => {
        const w = world();
        const settled = apply(w, plan(w).actions);

        expect(plan(settled).actions).toEqual([]);
      },
    );
  });

  describe('a reported API error (Reconciling=True ApiError)', () => {
    const reported = (reason: string) => (st: ScimDomainStatus) => ({
      ...st,
      conditions: [
        ...(st.conditions ?? []),
        { type: 'Reconciling', status: 'True' as const, reason, message: 'm', lastTransitionTime: NOW },
      ],
    });

    it('is left alone by a domain with nothing else to write, so a failing retry is not reset', () => {
      expect(plan(editStatus(issuedWorld(), reported('ApiError'))).actions).toEqual([]);
    });

    it('is kept in the status a plan writes (the reconciler clears it once nothing is left)', () => {
      const w = editStatus(withoutSecret(issuedWorld()), reported('ApiError'));

      const reconciling = statusOf(plan(w)).conditions?.find((c) => c.type === 'Reconciling');

      expect(reconciling).toMatchObject({ status: 'True', reason: 'ApiError' });
    });

    it('does not keep a Reconciling condition of any other reason', () => {
      const w = editStatus(issuedWorld(), reported('Progressing'));

      expect(statusOf(plan(w)).conditions?.map((c) => c.type)).toEqual(['Ready']);
    });
  });

  describe('deleting', () => {
    it.each([
      { case: 'holds a token', world: issuedWorld },
      { case: 'has no Secret yet', world: (): World => ({ domain: acmeDomain(), secrets: {} }) },
      { case: 'lost its Secret', world: () => withoutSecret(issuedWorld()) },
      { case: 'is suspended', world: () => editSpec(issuedWorld(), { suspend: true }) },
    ])('plans nothing for a domain being deleted that $case', ({ world }) => {
      const w = world();
      const deleting: World = {
        ...w,
        domain: { ...w.domain, metadata: { ...w.domain.metadata, deletionTimestamp: new Date(NOW) } },
      };
      const deps = fakeDeps();

      expect(plan(deleting, deps).actions).toEqual([]);
      expect(deps.issued).toEqual([]);
    });
  });

  describe('domain conflicts', () => {
    const owner: Claimant = {
      namespace: 'team-b',
      name: 'acme-old',
      creationTimestamp: '2025-01-01T00:00:00Z',
    };
    const conflicted = (): World => ({
      domain: acmeDomain(),
      secrets: {},
      claimants: [claimantOf(acmeDomain()), owner],
    });

    it('stalls the younger claimant with Ready=False DomainConflict naming the owner and issues nothing', () => {
      const deps = fakeDeps();

      const p = plan(conflicted(), deps);

      expect(secretWrites(p)).toEqual([]);
      expect(deps.issued).toEqual([]);
      const status = statusOf(p);
      expect(status.token).toBeUndefined();
      expect(condition(status, 'Ready')).toMatchObject({
        status: 'False',
        reason: 'DomainConflict',
        message: expect.stringContaining('team-b/acme-old') as string,
        observedGeneration: 1,
      });
      expect(condition(status, 'Stalled')).toMatchObject({ status: 'True', reason: 'DomainConflict' });
      expect(eventsOf(p)).toEqual([
        expect.objectContaining({ type: 'Warning', reason: 'DomainConflict' }) as ActionOf<'event'>,
      ]);
    });

    it.each([
      { case: 'the same namespace and a later name', self: ['team-a', 'zeta'], other: ['team-a', 'alpha'] },
      { case: 'a later namespace', self: ['team-b', 'acme'], other: ['team-a', 'acme'] },
    ])('breaks a creationTimestamp tie against the claimant with $case', ({ self, other }) => {
      const [ns = '', name = ''] = self;
      const [otherNs = '', otherName = ''] = other;
      const w: World = {
        domain: acmeDomain({}, { namespace: ns, name }),
        secrets: {},
        claimants: [
          { namespace: ns, name, creationTimestamp: CREATED },
          { namespace: otherNs, name: otherName, creationTimestamp: CREATED },
        ],
      };

      const p = plan(w);

      expect(p.outcome).toBe('domain-conflict');
      expect(condition(statusOf(p), 'Ready')?.message).toContain(`${otherNs}/${otherName}`);
    });

    it('issues a token to the claimant that wins a creationTimestamp tie', () => {
      const w: World = {
        domain: acmeDomain(),
        secrets: {},
        claimants: [
          claimantOf(acmeDomain()),
          { namespace: 'team-b', name: NAME, creationTimestamp: CREATED },
        ],
      };

      expect(kinds(plan(w))).toEqual(['createSecret', 'writeStatus', 'event']);
    });

    it.each([
      { case: 'a domain without status', status: undefined },
      {
        case: 'a domain that was in SecretConflict',
        status: {
          conditions: [
            {
              type: 'Ready',
              status: 'False',
              reason: 'SecretConflict',
              message: 'x',
              lastTransitionTime: CREATED,
            },
          ],
        } satisfies ScimDomainStatus,
      },
    ] as { case: string; status: ScimDomainStatus | undefined }[])(
      'emits the DomainConflict event when $case enters the conflict',
      ({ status }) => {
        const w = { ...conflicted(), domain: acmeDomain({}, {}, status) };

        expect(eventsOf(plan(w)).map((e) => e.reason)).toEqual(['DomainConflict']);
      },
    );

    it('emits no second event and writes nothing while the conflict lasts', () => {
      const w = conflicted();
      const again = apply(w, plan(w).actions);

      expect(plan(again).actions).toEqual([]);
    });

    it('issues a token and clears Stalled once the owner is gone', () => {
      const w = conflicted();
      const stalled = apply(w, plan(w).actions);

      const p = plan({ ...stalled, claimants: [claimantOf(stalled.domain)] });

      expect(kinds(p)).toEqual(['createSecret', 'writeStatus', 'event']);
      expect(condition(statusOf(p), 'Ready')).toMatchObject({ status: 'True', reason: 'TokenIssued' });
      expect(condition(statusOf(p), 'Stalled')).toBeUndefined();
    });
  });

  describe('Secret conflicts', () => {
    it.each([
      { case: 'another object controls', controllerUid: 'someone-else' },
      { case: 'nothing controls', controllerUid: undefined },
    ])('never writes a Secret that $case and stalls with SecretConflict', ({ controllerUid }) => {
      const foreign = { ...ownedSecret({ token: 'theirs' }, {}), controllerUid };
      const deps = fakeDeps();

      const p = plan({ domain: acmeDomain(), secrets: { [SECRET]: foreign } }, deps);

      expect(kinds(p)).toEqual(['writeStatus', 'event']);
      expect(deps.issued).toEqual([]);
      expect(condition(statusOf(p), 'Ready')).toMatchObject({
        status: 'False',
        reason: 'SecretConflict',
        message: expect.stringContaining(SECRET) as string,
      });
      expect(condition(statusOf(p), 'Stalled')).toMatchObject({ status: 'True', reason: 'SecretConflict' });
      expect(eventsOf(p)[0]).toMatchObject({ type: 'Warning', reason: 'SecretConflict' });
    });

    it('leaves a foreign Secret alone even when a token is recorded for that name', () => {
      const w = issuedWorld();
      const hijacked: World = {
        ...w,
        secrets: { [SECRET]: ownedSecret(tokenData(T9), {}, { controllerUid: 'someone-else' }) },
      };

      const p = plan(hijacked);

      expect(secretWrites(p)).toEqual([]);
      expect(p.actions.filter((a) => a.kind === 'deleteSecret')).toEqual([]);
      expect(condition(statusOf(p), 'Ready')).toMatchObject({ status: 'False', reason: 'SecretConflict' });
    });
  });

  describe('suspending', () => {
    const suspended = () => editSpec(issuedWorld({ scimBaseUrl: BASE_URL }), { suspend: true });

    it('revokes the token in status before it scrubs the Secret', () => {
      const k = kinds(plan(suspended()));

      expect(k).toContain('writeStatus');
      expect(k).toContain('replaceSecret');
      expect(k.indexOf('writeStatus')).toBeLessThan(k.indexOf('replaceSecret'));
    });

    it('removes the token from status, records it as revoked for Suspended and reads Ready=True Suspended', () => {
      const status = statusOf(plan(suspended()));

      expect(status).not.toHaveProperty('token');
      expect(status.revokedTokens).toEqual([
        { id: T1.id, fingerprint: T1.fingerprint, revokedAt: NOW, reason: 'Suspended' },
      ]);
      // A desired state: kstatus reads Ready=True as Current, the reason says it is suspended.
      expect(condition(status, 'Ready')).toMatchObject({
        status: 'True',
        reason: 'Suspended',
        observedGeneration: 2,
      });
      expect(status.observedGeneration).toBe(2);
    });

    it('strips token, token-sha256 and token-id from the Secret and keeps its generation', () => {
      const w = suspended();
      const replace = only(plan(w), 'replaceSecret');

      expect(replace).toMatchObject({ name: SECRET, resourceVersion: w.secrets[SECRET]?.resourceVersion });
      expect(replace.content.data).toEqual({ domain: DOMAIN, scimBaseUrl: BASE_URL });
      expect(replace.content.annotations).toEqual({ [GENERATION_ANNOTATION]: '1' });
    });

    it('emits a TokenRevoked event naming the revoked token', () => {
      const events = eventsOf(plan(suspended()));

      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ type: 'Normal', reason: 'TokenRevoked' });
      expect(events[0]?.message).toContain(T1.id);
    });

    it('issues a fresh token at the next generation when the domain is resumed', () => {
      const s = suspended();
      const resumed = editSpec(apply(s, plan(s).actions), { suspend: false });
      const deps = fakeDeps();

      const p = plan(resumed, deps);

      expect(kinds(p)).toEqual(['replaceSecret', 'writeStatus', 'event']);
      expect(only(p, 'replaceSecret').content.data).toEqual(tokenData(T2, { scimBaseUrl: BASE_URL }));
      expect(only(p, 'replaceSecret').content.annotations).toMatchObject({ [GENERATION_ANNOTATION]: '2' });
      const status = statusOf(p);
      expect(status.token).toEqual(tokenStatus(T2, 2, NOW));
      expect(status.revokedTokens?.map((r) => [r.id, r.reason])).toEqual([[T1.id, 'Suspended']]);
      expect(condition(status, 'Ready')).toMatchObject({ status: 'True', reason: 'TokenIssued' });
    });

    // SPEC §2.3 "Unsuspending issues a fresh token"; §0 revocation is irreversible. The suspend plan
    // writes status first; if the Secret scrub after it fails (conflict, crash) and the domain is
    // resumed before it is retried, the Secret still holds the revoked token.
    it('never brings back the revoked token when the domain is resumed before the Secret was scrubbed', () => {
      const s = suspended();
      const statusOnly = apply(
        s,
        plan(s).actions.filter((a) => a.kind === 'writeStatus'),
      );
      const resumed = editSpec(statusOnly, { suspend: false });

      const p = plan(resumed);

      expect(statusOf(p).token?.sha256).not.toBe(T1.sha256);
      expect(secretWrites(p).map((a) => a.content.data.token)).toEqual([T2.token]);
    });
  });

  describe('moving the Secret', () => {
    const NEW_NAME = 'acme-idp-token';

    it('creates the new Secret, records it in status, then deletes the old one', () => {
      const w = editSpec(issuedWorld(), { secretName: NEW_NAME });
      const old = w.secrets[SECRET];

      const p = plan(w);

      const k = kinds(p);
      expect(k.filter((x) => x !== 'event')).toEqual(['createSecret', 'writeStatus', 'deleteSecret']);
      expect(only(p, 'createSecret')).toMatchObject({ name: NEW_NAME, content: { data: old?.data } });
      expect(statusOf(p)).toMatchObject({ secretName: NEW_NAME, token: tokenStatus(T1, 1, NOW) });
      expect(only(p, 'deleteSecret')).toEqual({
        kind: 'deleteSecret',
        name: SECRET,
        uid: old?.uid,
        resourceVersion: old?.resourceVersion,
      });
    });

    it('keeps the token when it moves: no token is issued and none is revoked', () => {
      const deps = fakeDeps();

      const p = plan(editSpec(issuedWorld(), { secretName: NEW_NAME }), deps);

      expect(deps.issued).toEqual([]);
      expect(statusOf(p).revokedTokens ?? []).toEqual([]);
    });
  });

  describe('losing the Secret', () => {
    it('revokes the recorded token as SecretLost and issues the next generation', () => {
      const deps = fakeDeps();

      const p = plan(withoutSecret(issuedWorld()), deps);

      expect(kinds(p)).toEqual(['createSecret', 'writeStatus', 'event', 'event']);
      expect(only(p, 'createSecret')).toMatchObject({ name: SECRET, content: { data: tokenData(T2) } });
      const status = statusOf(p);
      expect(status.token).toEqual(tokenStatus(T2, 2, NOW));
      expect(status.revokedTokens).toEqual([
        { id: T1.id, fingerprint: T1.fingerprint, revokedAt: NOW, reason: 'SecretLost' },
      ]);
    });

    it('emits a Warning SecretLost event naming both tokens, then TokenIssued', () => {
      const events = eventsOf(plan(withoutSecret(issuedWorld())));

      expect(events.map((e) => [e.type, e.reason])).toEqual([
        ['Warning', 'SecretLost'],
        ['Normal', 'TokenIssued'],
      ]);
      expect(events[0]?.message).toContain(T1.id);
      expect(events[0]?.message).toContain(T2.id);
    });
  });

  describe('tampering', () => {
    it.each([
      { case: 'replaced by another well-formed token with its own hash', data: tokenData(T9) },
      { case: 'changed in token only', data: tokenData(T1, { token: T9.token }) },
      { case: 'changed in token-sha256 only', data: tokenData(T1, { 'token-sha256': T9.sha256 }) },
      { case: 'replaced by a malformed string', data: tokenData(T1, { token: 'hunter2' }) },
    ])('replaces a Secret $case with a new token and revokes the old one as SecretTampered', ({ data }) => {
      const w = editSecret(issuedWorld(), (s) => ({ ...s, data }));

      const p = plan(w);

      expect(kinds(p)).toEqual(['replaceSecret', 'writeStatus', 'event', 'event']);
      expect(only(p, 'replaceSecret')).toMatchObject({
        name: SECRET,
        resourceVersion: w.secrets[SECRET]?.resourceVersion,
        content: { data: tokenData(T2) },
      });
      expect(statusOf(p).token).toEqual(tokenStatus(T2, 2, NOW));
      expect(statusOf(p).revokedTokens).toEqual([
        { id: T1.id, fingerprint: T1.fingerprint, revokedAt: NOW, reason: 'SecretTampered' },
      ]);
      expect(eventsOf(p)[0]).toMatchObject({ type: 'Warning', reason: 'SecretTampered' });
    });
  });

  describe('adopting a Secret write whose status write did not happen', () => {
    const crashed = (
      generation: number,
      cause: IssueCause = 'Issued',
      rotation?: { key: string; name: string },
    ) =>
      editSecret(issuedWorld(), (s) => ({
        ...s,
        data: tokenData(T8),
        annotations: sealedAnnotations(T8, generation, cause, rotation),
      }));

    it.each([
      { cause: 'SecretLost', reason: 'SecretLost' },
      { cause: 'SecretTampered', reason: 'SecretTampered' },
      { cause: 'Rotated', reason: 'Rotated' },
    ])(
      'records the Secret token one generation ahead and revokes the old one as $reason after $cause',
      (c) => {
        const deps = fakeDeps();

        const p = plan(crashed(2, c.cause as IssueCause), deps);

        expect(secretWrites(p)).toEqual([]);
        expect(deps.issued).toEqual([]);
        const status = statusOf(p);
        expect(status.token).toMatchObject({
          id: T8.id,
          sha256: T8.sha256,
          fingerprint: T8.fingerprint,
          generation: 2,
        });
        expect(status.revokedTokens?.[0]).toEqual({
          id: T1.id,
          fingerprint: T1.fingerprint,
          revokedAt: NOW,
          reason: c.reason,
        });
        expect(condition(status, 'Ready')).toMatchObject({ status: 'True', reason: 'TokenIssued' });
      },
    );

    it('adopts a first token written before the first status write', () => {
      const written: World = {
        domain: acmeDomain(),
        secrets: { [SECRET]: ownedSecret(tokenData(T8), sealedAnnotations(T8, 1, 'Issued')) },
      };
      const deps = fakeDeps();

      const p = plan(written, deps);

      expect(kinds(p)).toEqual(['writeStatus', 'event']);
      expect(statusOf(p).token).toEqual(tokenStatus(T8, 1, NOW));
      expect(deps.issued).toEqual([]);
    });

    it('treats a Secret two generations ahead as tampered rather than adopting it', () => {
      const w = crashed(3, 'Rotated');

      const p = plan(w);

      expect(only(p, 'replaceSecret').content.data).toEqual(tokenData(T2));
      expect(statusOf(p).token).toEqual(tokenStatus(T2, 2, NOW));
      expect(statusOf(p).revokedTokens?.[0]).toMatchObject({ id: T1.id, reason: 'SecretTampered' });
    });

    // SPEC §2.3: when the Secret is lost the operator "revokes the recorded token (reason SecretLost),
    // issues a new one, and emits a Warning Event". The crashed reconcile died before its events, so
    // the adopting one is the only one that can emit it.
    it('emits the Warning SecretLost event that the crashed reconcile never got to', () => {
      const p = plan(crashed(2, 'SecretLost'));

      expect(eventsOf(p)).toContainEqual(
        expect.objectContaining({ type: 'Warning', reason: 'SecretLost' }) as ActionOf<'event'>,
      );
    });

    // SPEC §2.6: "the domain's status write that adds [the rotation UID to appliedRotations] is the same
    // write that switches token.sha256". Adopting a rotation's Secret write switches token.sha256.
    it('records the rotation in appliedRotations in the same write that adopts its token', () => {
      const p = plan(crashed(2, 'Rotated', { key: 'uid-rotation-1', name: 'rotate-1' }));

      const status = statusOf(p);
      expect(status.token?.sha256).toBe(T8.sha256);
      expect(status.appliedRotations ?? []).toContain('uid-rotation-1');
    });
  });

  describe('reveal once', () => {
    const revealed = (revealOnce: boolean) =>
      editSecret(issuedWorld({ revealOnce }), (s) => ({
        ...s,
        annotations: { ...s.annotations, [REVEALED_ANNOTATION]: 'true' },
      }));

    it('removes the revealed token from the Secret and keeps its hash and id', () => {
      const w = revealed(true);

      const p = plan(w);

      expect(kinds(p)).toEqual(['replaceSecret', 'event']);
      const replace = only(p, 'replaceSecret');
      expect(replace.resourceVersion).toBe(w.secrets[SECRET]?.resourceVersion);
      expect(replace.content.data).toEqual({ 'token-sha256': T1.sha256, 'token-id': T1.id, domain: DOMAIN });
      expect(replace.content.annotations).toMatchObject({ [REVEALED_ANNOTATION]: 'true' });
      expect(eventsOf(p)[0]).toMatchObject({ type: 'Normal', reason: 'TokenRevealed' });
    });

    it.each([
      {
        case: 'the revealed token is already gone',
        world: () => {
          const w = revealed(true);
          return apply(w, plan(w).actions);
        },
      },
      { case: 'revealOnce is off, whatever the annotation says', world: () => revealed(false) },
      { case: 'the token has not been revealed yet', world: () => issuedWorld({ revealOnce: true }) },
    ])('writes nothing when $case', ({ world }) => {
      expect(plan(world()).actions).toEqual([]);
    });
  });

  describe('scimBaseUrl', () => {
    it.each([
      {
        case: 'changes',
        from: BASE_URL,
        to: 'https://idp.example.com/scim',
        want: 'https://idp.example.com/scim',
      },
      { case: 'is set', from: undefined, to: BASE_URL, want: BASE_URL },
      { case: 'is removed', from: BASE_URL, to: undefined, want: undefined },
    ])('rewrites the Secret with the same token when spec.scimBaseUrl $case', ({ from, to, want }) => {
      const w = editSpec(issuedWorld({ scimBaseUrl: from }), { scimBaseUrl: to });
      const deps = fakeDeps();

      const p = plan(w, deps);

      expect(kinds(p).filter((k) => k !== 'writeStatus')).toEqual(['replaceSecret']);
      expect(only(p, 'replaceSecret').content.data).toEqual(tokenData(T1, want ? { scimBaseUrl: want } : {}));
      expect(statusOf(p).token).toEqual(tokenStatus(T1, 1, NOW));
      expect(deps.issued).toEqual([]);
    });
  });

  describe('revokedTokens', () => {
    const history = (n: number): RevokedToken[] =>
      Array.from({ length: n }, (_, i) => ({
        id: `tok-old${i}`,
        fingerprint: `sha256:00000000000${i}`,
        revokedAt: CREATED,
        reason: 'Rotated',
      }));

    it.each([
      { case: 'adds to a short list', before: 2, after: 3 },
      { case: 'keeps the 10 most recent of a full list', before: 10, after: 10 },
      { case: 'cuts an over-long list down to 10', before: 12, after: 10 },
    ])('puts the newest revocation first and $case', ({ before, after }) => {
      const old = history(before);
      const w = withoutSecret(editStatus(issuedWorld(), (s) => ({ ...s, revokedTokens: old })));

      const revoked = statusOf(plan(w)).revokedTokens ?? [];

      expect(revoked).toHaveLength(after);
      expect(revoked[0]).toMatchObject({ id: T1.id, reason: 'SecretLost' });
      expect(revoked.slice(1)).toEqual(old.slice(0, after - 1));
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// What a user with the namespace edit role can do to a Secret or a spec, and what the plan makes of
// it without any admission policy (SPEC §2.3, §3).

describe('planDomain against hostile edits', () => {
  it('revokes and scrubs the token of a domain that lost a conflict, and issues a fresh one on hand-over', () => {
    const rival: Claimant = {
      namespace: 'team-b',
      name: 'acme-old',
      creationTimestamp: '2025-01-01T00:00:00Z',
    };
    const issued = issuedWorld();
    const lost: World = { ...issued, claimants: [claimantOf(issued.domain), rival] };

    const p = plan(lost);

    const status = statusOf(p);
    expect(status.token).toBeUndefined();
    expect(status.revokedTokens?.[0]).toMatchObject({ id: T1.id, reason: 'DomainConflict' });
    expect(only(p, 'replaceSecret').content.data).toEqual({ domain: DOMAIN });

    const handedOver = { ...apply(lost, p.actions), claimants: undefined };
    const next = plan(handedOver);
    expect(next.outcome).toBe('issued');
    expect(statusOf(next).token?.sha256).toBe(T2.sha256);
  });

  it('replaces a token planted with a bumped generation, revoking the recorded one', () => {
    const w = editSecret(issuedWorld(), (s) => ({
      ...s,
      data: tokenData(T9),
      annotations: { ...s.annotations, ...generationAnnotations(2, 'Rotated') },
    }));

    const p = plan(w);

    expect(p.outcome).toBe('reissued-tampered');
    expect(only(p, 'replaceSecret').content.data.token).toBe(T2.token);
    expect(statusOf(p).token?.sha256).toBe(T2.sha256);
    expect(statusOf(p).revokedTokens?.[0]).toMatchObject({ id: T1.id, reason: 'SecretTampered' });
  });

  it('carries the revocation with the Secret write, so a refused write still revokes', () => {
    const w = editSecret(issuedWorld(), (s) => ({ ...s, data: tokenData(T9) }));

    const write = only(plan(w), 'replaceSecret');

    expect(write.ifRefused?.token).toBeUndefined();
    expect(write.ifRefused?.revokedTokens?.[0]).toMatchObject({ id: T1.id, reason: 'SecretTampered' });
    expect(condition(write.ifRefused!, 'Ready')).toMatchObject({ status: 'False', reason: 'ApiError' });
  });

  it('deletes (with preconditions) and recreates an immutable Secret instead of updating it', () => {
    const w = editSecret(issuedWorld({ revealOnce: true }), (s) => ({
      ...s,
      immutable: true,
      annotations: { ...s.annotations, [REVEALED_ANNOTATION]: 'true' },
    }));

    const p = plan(w);

    expect(kinds(p)).toEqual(['deleteSecret', 'createSecret', 'event']);
    const before = w.secrets[SECRET]!;
    expect(only(p, 'deleteSecret')).toMatchObject({
      uid: before.uid,
      resourceVersion: before.resourceVersion,
    });
    expect(only(p, 'createSecret').content.data.token).toBeUndefined();
  });

  it('removes a last-applied-configuration annotation, which can hold a revealed plaintext', () => {
    const w = editSecret(issuedWorld(), (s) => ({
      ...s,
      annotations: { ...s.annotations, [LAST_APPLIED_ANNOTATION]: '{"data":{"token":"…"}}' },
    }));

    const write = only(plan(w), 'replaceSecret');

    expect(write.content.data).toEqual(tokenData(T1));
  });

  describe('a suspension undone before it was recorded', () => {
    // Ready records generation 1; the user suspends (2) and unsuspends (3) before a reconcile.
    const flipped = () => editSpec(editSpec(issuedWorld(), { suspend: true }), { suspend: false });
    it.each([
      { case: 'the watch saw the suspension', h: seen(1, 3, 2), outcome: 'reissued-suspended' },
      { case: 'the watch missed a generation', h: seen(3, 3, 0), outcome: 'reissued-suspended' },
      { case: 'nothing was seen at all', h: undefined, outcome: 'reissued-suspended' },
      { case: 'the watch saw every generation unsuspended', h: seen(1, 3, 0), outcome: 'up-to-date' },
    ])('$case: $outcome', ({ h, outcome }) => {
      const w = flipped();
      const p = planDomain({ ...observe(w), ...(h ? { suspendHistory: h } : {}) }, fakeDeps());

      expect(p.outcome).toBe(outcome);
      if (outcome === 'reissued-suspended') {
        expect(statusOf(p).revokedTokens?.[0]).toMatchObject({ id: T1.id, reason: 'Suspended' });
        expect(eventsOf(p)[0]).toMatchObject({ type: 'Warning', reason: 'TokenRevoked' });
      }
    });

    it('keeps the token after a single edit that did not suspend, whatever the watch saw', () => {
      const w = editSpec(issuedWorld(), { sendEmailInvitations: false });

      expect(plan(w).outcome).toBe('up-to-date');
    });
  });
});

describe('suspendedSinceRecorded', () => {
  const recordedAt1 = () => issuedWorld().domain;
  const atGeneration = (g: number, spec: Partial<ScimDomainSpec> = {}) => {
    const d = recordedAt1();
    return { ...d, metadata: { ...d.metadata, generation: g }, spec: { ...d.spec, ...spec } };
  };
  it.each<{ case: string; d: ScimDomain; h?: GenerationHistory; want: string }>([
    { case: 'no change since Ready', d: atGeneration(1), want: 'no' },
    { case: 'one change since Ready', d: atGeneration(2), want: 'no' },
    { case: 'two changes, none seen', d: atGeneration(3), want: 'unknown' },
    { case: 'two changes, both seen unsuspended', d: atGeneration(3), h: seen(1, 3, 0), want: 'no' },
    { case: 'two changes, a suspension seen', d: atGeneration(3), h: seen(2, 3, 2), want: 'yes' },
    { case: 'a suspension before Ready was recorded', d: atGeneration(3), h: seen(1, 3, 1), want: 'no' },
    {
      case: 'history of an older object of that name',
      d: atGeneration(3),
      h: seen(1, 3, 0, 'other'),
      want: 'unknown',
    },
    { case: 'history that stops short', d: atGeneration(4), h: seen(1, 3, 0), want: 'unknown' },
  ])('$case: $want', ({ d, h, want }) => {
    expect(suspendedSinceRecorded(d, h)).toBe(want);
  });
});

describe('observeGeneration', () => {
  it.each<{ case: string; h?: GenerationHistory; g: number; suspended: boolean; want: GenerationHistory }>([
    { case: 'starts a history', g: 4, suspended: false, want: seen(4, 4, 0) },
    {
      case: 'extends it by the next generation',
      h: seen(4, 4, 0),
      g: 5,
      suspended: true,
      want: seen(4, 5, 5),
    },
    {
      case: 'keeps it for a status-only update',
      h: seen(4, 5, 5),
      g: 5,
      suspended: true,
      want: seen(4, 5, 5),
    },
    { case: 'starts again after a gap', h: seen(4, 5, 5), g: 7, suspended: false, want: seen(7, 7, 0) },
  ])('$case', ({ h, g, suspended, want }) => {
    expect(observeGeneration(h, UID, g, suspended)).toEqual(want);
  });
});

describe('planDomain with an overlap in progress (SPEC §2.2)', () => {
  const overlapping = (expiresAt: string, spec: Partial<ScimDomainSpec> = {}) =>
    editStatus(issuedWorld(spec), (st) => ({
      ...st,
      previousToken: { id: T9.id, fingerprint: T9.fingerprint, sha256: T9.sha256, expiresAt },
    }));
  const inAMinute = new Date(Date.parse(NOW) + 60_000).toISOString();

  it('writes nothing before expiresAt and comes back at that instant', () => {
    const p = plan(overlapping(inAMinute));

    expect(p.actions).toEqual([]);
    expect(p.requeueAfterMs).toBe(60_000);
  });

  it('revokes the previous token with one status write at expiresAt, and then writes nothing more', () => {
    const w = overlapping(NOW);

    const p = plan(w);

    const status = statusOf(p);
    expect(status.previousToken).toBeUndefined();
    expect(status.revokedTokens?.[0]).toEqual({
      id: T9.id,
      fingerprint: T9.fingerprint,
      revokedAt: NOW,
      reason: 'Rotated',
    });
    expect(status.token?.sha256).toBe(T1.sha256);
    expect(eventsOf(p)[0]).toMatchObject({ reason: 'TokenRevoked' });
    expect(plan(apply(w, p.actions)).actions).toEqual([]);
  });

  it.each([
    { case: 'a suspension', edit: (w: World) => editSpec(w, { suspend: true }) },
    { case: 'a lost Secret', edit: (w: World) => withoutSecret(w) },
  ])('ends it at once on $case', ({ edit }) => {
    const p = plan(edit(overlapping(inAMinute)));

    const status = statusOf(p);
    expect(status.previousToken).toBeUndefined();
    expect(status.revokedTokens?.map((t) => t.id)).toContain(T9.id);
  });

  it('adopts an interrupted rotation write with the overlap it was sealed with', () => {
    const w = editSecret(issuedWorld(), (s) => ({
      ...s,
      data: tokenData(T8),
      annotations: sealedAnnotations(T8, 2, 'Rotated', { key: 'uid-r', name: 'r', overlapUntil: inAMinute }),
    }));

    const status = statusOf(plan(w));

    expect(status.token?.sha256).toBe(T8.sha256);
    expect(status.previousToken).toMatchObject({ id: T1.id, sha256: T1.sha256, expiresAt: inAMinute });
    expect(status.revokedTokens ?? []).toEqual([]);
  });
});

describe('the annotations the seal covers', () => {
  it('stay on the Secret once the rotation is recorded, so a replica whose status lags still adopts it', () => {
    const rotation = { key: 'uid-rotation-1', name: 'rotate-1' };
    const written = editSecret(issuedWorld(), (s) => ({
      ...s,
      data: tokenData(T8),
      annotations: sealedAnnotations(T8, 2, 'Rotated', rotation),
    }));
    const recorded = apply(written, plan(written).actions);

    expect(secretWrites(plan(recorded))).toEqual([]);
    const lagging = { ...recorded, domain: written.domain };
    expect(judgeSecret(lagging.secrets[SECRET], UID, tokenStatus(T1, 1), [], SEALER).kind).toBe('pending');
  });
});
