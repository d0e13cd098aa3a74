import { describe, expect, it } from 'vitest';
import type { ScimDomain, ScimDomainStatus } from '../api/types.js';
import { readyCondition, scimDomain } from '../../test/support/builders.js';
import type { Condition } from './conditions.js';
import type { DomainPlan } from './scimdomain/plan.js';
import { MAX_REQUEUE_MS, judgeTokenAge, parseMaxTokenAge, tokenExpiry, withTokenAge } from './token-age.js';

const H = 3_600_000;
const ISSUED = '2030-01-01T00:00:00.000Z';
const at = (hoursAfterIssue: number) => new Date(Date.parse(ISSUED) + hoursAfterIssue * H);
const token = { id: 'tok-1', fingerprint: 'sha256:aaaaaaaaaaaa', sha256: 'a'.repeat(64), generation: 1 };
const ready = readyCondition({ message: 'token tok-1 is current', lastTransitionTime: ISSUED });

/** contoso.example, Ready with token tok-1 issued at ISSUED, unless `status` says otherwise. */
function domain(
  maxTokenAge: string | undefined,
  status: ScimDomainStatus | undefined = { conditions: [ready], token: { ...token, issuedAt: ISSUED } },
): ScimDomain {
  return scimDomain({
    metadata: { uid: 'u' },
    spec: maxTokenAge ? { maxTokenAge } : {},
    ...(status ? { status } : {}),
  });
}

const overdue = (since: string) => ({
  type: 'TokenOverdue',
  status: 'True',
  reason: 'MaxTokenAgeExceeded',
  message: `token tok-1 (sha256:aaaaaaaaaaaa) was issued at ${ISSUED} and is older than spec.maxTokenAge (720h) since ${since}; rotate it`,
  observedGeneration: 1,
});
const within = (until: string) => ({
  type: 'TokenOverdue',
  status: 'False',
  reason: 'WithinMaxTokenAge',
  message: `token tok-1 (sha256:aaaaaaaaaaaa) is within spec.maxTokenAge (720h) until ${until}`,
  observedGeneration: 1,
});

/** A status whose TokenOverdue condition was reported at ISSUED, beside `ready`; with token tok-1 unless `withToken` is false. */
const reported = (tokenOverdue: ReturnType<typeof overdue>, withToken = true): ScimDomainStatus => ({
  conditions: [ready, { ...tokenOverdue, lastTransitionTime: ISSUED } as Condition],
  ...(withToken ? { token: { ...token, issuedAt: ISSUED } } : {}),
});

const noop: DomainPlan = { actions: [], outcome: 'up-to-date' };
const statusOf = (p: DomainPlan) => {
  const w = p.actions.filter((a) => a.kind === 'writeStatus');
  return w.length === 1 && w[0]?.kind === 'writeStatus' ? w[0].status : undefined;
};
const eventsOf = (p: DomainPlan) =>
  p.actions.flatMap((a) => (a.kind === 'event' ? [`${a.type} ${a.reason}: ${a.message}`] : []));

describe('parseMaxTokenAge', () => {
  it.each([
    ['720h', 720 * H],
    ['90m', 90 * 60_000],
    ['1h30m', 90 * 60_000],
    ['30m1h', 90 * 60_000],
    ['45s', 45_000],
    ['2h0m10s', 2 * H + 10_000],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseMaxTokenAge(text)).toBe(ms);
  });

  it.each([
    [undefined],
    [''],
    ['0s'],
    ['0h0m'],
    ['30d'],
    ['1.5h'],
    ['720'],
    ['h'],
    ['-1h'],
    [' 720h'],
    ['720h '],
    ['1w'],
    ['9'.repeat(30) + 'h'],
  ])('rejects %j', (text) => {
    expect(parseMaxTokenAge(text)).toBeUndefined();
  });
});

describe('tokenExpiry', () => {
  it.each([
    ['720h', new Date('2030-01-31T00:00:00Z')],
    ['1h30m', new Date('2030-01-01T01:30:00Z')],
    [undefined, undefined],
    ['forever', undefined],
  ])('is the issue time plus %s', (max, want) => {
    expect(tokenExpiry(new Date(ISSUED), max)).toEqual(want);
  });

  it('is undefined for an invalid issue time', () => {
    expect(tokenExpiry(new Date('nonsense'), '720h')).toBeUndefined();
  });
});

describe('judgeTokenAge', () => {
  it.each([
    { what: 'no max age', max: undefined, now: at(10_000), want: { kind: 'unlimited' } },
    {
      what: 'a young token',
      max: '720h',
      now: at(700),
      want: { kind: 'within', overdueAt: at(720), inMs: 20 * H },
    },
    {
      what: 'a token exactly at its max age',
      max: '720h',
      now: at(720),
      want: { kind: 'overdue', overdueAt: at(720) },
    },
    { what: 'an old token', max: '720h', now: at(1000), want: { kind: 'overdue', overdueAt: at(720) } },
  ])('reports $what', ({ max, now, want }) => {
    expect(judgeTokenAge({ token: { ...token, issuedAt: ISSUED } }, max, now)).toEqual(want);
  });

  it('is unlimited without a token', () => {
    expect(judgeTokenAge({}, '720h', at(1000))).toEqual({ kind: 'unlimited' });
  });
});

describe('withTokenAge', () => {
  it.each([
    {
      what: 'a token within its max age: TokenOverdue=False until the instant, and a visit then',
      d: domain('720h'),
      now: at(700),
      conditions: [ready, expect.objectContaining(within('2030-01-31T00:00:00.000Z'))],
      events: [],
      requeueAfterMs: 20 * H,
    },
    {
      what: 'a token past its max age: TokenOverdue=True and a Warning Event',
      d: domain('720h'),
      now: at(721),
      conditions: [ready, expect.objectContaining(overdue('2030-01-31T00:00:00.000Z'))],
      events: [
        'Warning TokenOverdue: token tok-1 (sha256:aaaaaaaaaaaa) is older than spec.maxTokenAge (720h): rotate it (kubectl scim rotate contoso)',
      ],
      requeueAfterMs: undefined,
    },
    {
      what: 'a far-off max age: a visit within a day at most',
      d: domain('8760h'),
      now: at(1),
      conditions: [ready, expect.objectContaining({ type: 'TokenOverdue', status: 'False' })],
      events: [],
      requeueAfterMs: MAX_REQUEUE_MS,
    },
  ])('writes $what', ({ d, now, conditions, events, requeueAfterMs }) => {
    const p = withTokenAge(noop, d, now);
    expect(statusOf(p)?.conditions).toEqual(conditions);
    expect(statusOf(p)?.token).toEqual(d.status?.token);
    expect(eventsOf(p)).toEqual(events);
    expect(p.requeueAfterMs).toBe(requeueAfterMs);
    expect(p.outcome).toBe('up-to-date');
  });

  it.each([
    {
      what: 'an overdue token already reported',
      d: domain('720h', reported(overdue('2030-01-31T00:00:00.000Z'))),
      now: at(2000),
      requeueAfterMs: undefined,
    },
    {
      what: 'a young token already reported',
      d: domain('720h', reported(within('2030-01-31T00:00:00.000Z'))),
      now: at(1),
      requeueAfterMs: MAX_REQUEUE_MS,
    },
    { what: 'a domain without a max age', d: domain(undefined), now: at(2000), requeueAfterMs: undefined },
    {
      what: 'a domain without a token (suspended)',
      d: domain('720h', { conditions: [{ ...ready, status: 'False', reason: 'Suspended' }] }),
      now: at(2000),
      requeueAfterMs: undefined,
    },
  ])('writes nothing for $what', ({ d, now, requeueAfterMs }) => {
    const p = withTokenAge(noop, d, now);
    expect(p.actions).toEqual([]);
    expect(p.requeueAfterMs).toBe(requeueAfterMs);
  });

  it('clears the condition when spec.maxTokenAge is removed', () => {
    const d = domain(undefined, reported(overdue('x')));
    expect(statusOf(withTokenAge(noop, d, at(2000)))?.conditions).toEqual([ready]);
  });

  it('clears it once the token is gone (suspended)', () => {
    const d = domain('720h', reported(overdue('x'), false));
    expect(statusOf(withTokenAge(noop, d, at(2000)))?.conditions).toEqual([ready]);
  });

  it("judges the plan's own status write: a newly issued token is within its max age, with no Event", () => {
    const reissued = '2030-03-01T00:00:00.000Z';
    const d = domain('720h', reported(overdue('x')));
    const plan: DomainPlan = {
      actions: [
        { kind: 'createSecret', name: 's', content: { data: {}, annotations: {}, labels: {} } },
        {
          kind: 'writeStatus',
          status: { ...d.status, token: { ...token, id: 'tok-2', issuedAt: reissued, generation: 2 } },
        },
        { kind: 'event', type: 'Normal', reason: 'TokenIssued', message: 'token tok-2 issued' },
      ],
      outcome: 'issued',
    };
    const p = withTokenAge(plan, d, new Date(reissued));
    expect(p.actions.map((a) => a.kind)).toEqual(['createSecret', 'writeStatus', 'event']);
    expect(statusOf(p)?.token?.id).toBe('tok-2');
    expect(statusOf(p)?.conditions?.find((c) => c.type === 'TokenOverdue')).toMatchObject({
      status: 'False',
      reason: 'WithinMaxTokenAge',
      lastTransitionTime: reissued,
    });
    expect(eventsOf(p)).toEqual(['Normal TokenIssued: token tok-2 issued']);
    expect(p.requeueAfterMs).toBe(MAX_REQUEUE_MS);
  });

  it('leaves a domain being deleted alone', () => {
    const d = domain('720h');
    d.metadata.deletionTimestamp = new Date(ISSUED);
    expect(withTokenAge(noop, d, at(2000))).toEqual(noop);
  });

  it('never puts anything but the token id and fingerprint in the condition or the Event', () => {
    const p = withTokenAge(noop, domain('720h'), at(2000));
    const text = JSON.stringify([statusOf(p)?.conditions, eventsOf(p)]);
    expect(text).not.toContain(token.sha256);
    expect(text).toContain('tok-1');
  });
});
