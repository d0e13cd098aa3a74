import type { V1Lease } from '@kubernetes/client-node';
import { KubeClient } from './client.js';
import { connectionFrom } from './connection.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_LEASE_NAME,
  LeaderElectionConfigError,
  LeaderElector,
  createLeaderElector,
  isLeaseHeld,
  isRenewDeadlinePassed,
  leaseBody,
  leaseDurationSeconds,
  nextRecord,
  observe,
  planAcquireOrRenew,
  recordFromLease,
  releasedRecord,
  resolveLeaseNamespace,
  retryDelayMs,
  type LeaseClient,
  type LeaseRecord,
  type Observation,
  type StoppedReason,
} from './leader-election.js';

const T0 = Date.parse('2026-11-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms);

function record(over: Partial<LeaseRecord> = {}): LeaseRecord {
  return {
    holderIdentity: 'pod-a_1',
    leaseDurationSeconds: 15,
    acquireTime: at(0),
    renewTime: at(0),
    leaseTransitions: 0,
    ...over,
  };
}

function seen(over: Partial<LeaseRecord> = {}, observedAtMs = T0, resourceVersion = '7'): Observation {
  return { record: record(over), resourceVersion, observedAtMs };
}

describe('leaseDurationSeconds', () => {
  it.each([
    [15_000, 15],
    [1_500, 2],
    [200, 1],
    [0, 1],
  ])('turns %i ms into %i whole seconds, never fewer than asked', (ms, seconds) => {
    expect(leaseDurationSeconds(ms)).toBe(seconds);
  });
});

describe('recordFromLease', () => {
  it('reads MicroTime fields that client-node hands back as strings', () => {
    const r = recordFromLease({
      spec: {
        holderIdentity: 'pod-a_1',
        leaseDurationSeconds: 15,
        acquireTime: '2026-11-01T10:00:00.000000Z' as unknown as Date,
        renewTime: '2026-11-01T10:00:05.123456Z' as unknown as Date,
        leaseTransitions: 3,
      },
    });
    expect(r).toEqual({
      holderIdentity: 'pod-a_1',
      leaseDurationSeconds: 15,
      acquireTime: at(0),
      renewTime: at(5_123),
      leaseTransitions: 3,
    });
  });

  it('treats a Lease without spec as free, with no transitions', () => {
    expect(recordFromLease({})).toEqual({
      holderIdentity: '',
      leaseDurationSeconds: 0,
      acquireTime: undefined,
      renewTime: undefined,
      leaseTransitions: 0,
    });
  });
});

describe('observe', () => {
  it.each([
    ['keeps the first observation time while the record is unchanged', '7', T0],
    ['restarts the clock when the record changed (a renewal or a new holder)', '8', T0 + 4_000],
  ])('%s', (_what, resourceVersion, expectedObservedAt) => {
    const previous = seen({}, T0, '7');
    const next = observe(previous, record(), resourceVersion, T0 + 4_000);
    expect(next.observedAtMs).toBe(expectedObservedAt);
    expect(next.resourceVersion).toBe(resourceVersion);
  });

  it('starts the clock at the first read, whatever renewTime the record claims', () => {
    const old = record({ renewTime: at(-3_600_000) });
    expect(observe(undefined, old, '1', T0).observedAtMs).toBe(T0);
  });
});

describe('isLeaseHeld', () => {
  it.each([
    ['a renewed lease, just observed', {}, 0, true],
    ['a lease one millisecond before it expires', {}, 14_999, true],
    ['a lease at its expiry', {}, 15_000, false],
    ['a lease long expired', {}, 60_000, false],
    ['a released lease (no holder)', { holderIdentity: '' }, 0, false],
    ['a released lease of one second', { holderIdentity: '', leaseDurationSeconds: 1 }, 0, false],
  ] as const)('%s → %s', (_what, over, elapsedMs, held) => {
    expect(isLeaseHeld(seen(over), T0 + elapsedMs)).toBe(held);
  });
});

describe('planAcquireOrRenew', () => {
  const me = 'pod-b_2';
  it.each<[string, Observation | undefined, number, ReturnType<typeof planAcquireOrRenew>]>([
    ['no Lease exists', undefined, 0, { kind: 'create' }],
    ['we hold it', seen({ holderIdentity: me }), 0, { kind: 'renew' }],
    [
      'we hold it, even past expiry (the renew deadline guards that)',
      seen({ holderIdentity: me }),
      99_000,
      { kind: 'renew' },
    ],
    ['another holds a valid lease', seen(), 5_000, { kind: 'wait', holder: 'pod-a_1', expiresInMs: 10_000 }],
    ['another holds an expired lease', seen(), 15_000, { kind: 'takeover', previousHolder: 'pod-a_1' }],
    [
      'the holder released it',
      seen({ holderIdentity: '', leaseDurationSeconds: 1 }),
      0,
      { kind: 'takeover', previousHolder: '' },
    ],
  ])('when %s', (_what, observation, elapsedMs, decision) => {
    expect(planAcquireOrRenew(observation, me, T0 + elapsedMs)).toEqual(decision);
  });
});

describe('nextRecord', () => {
  const current = record({ holderIdentity: 'pod-a_1', acquireTime: at(-60_000), leaseTransitions: 4 });
  it.each([
    ['create', { kind: 'create' } as const, undefined, { acquireTime: at(9_000), leaseTransitions: 0 }],
    [
      'renew',
      { kind: 'renew' } as const,
      record({ holderIdentity: 'me', acquireTime: at(-60_000), leaseTransitions: 4 }),
      { acquireTime: at(-60_000), leaseTransitions: 4 },
    ],
    [
      'takeover',
      { kind: 'takeover', previousHolder: 'pod-a_1' } as const,
      current,
      { acquireTime: at(9_000), leaseTransitions: 5 },
    ],
  ])(
    '%s: holder is us, renewTime now, acquireTime and transitions as expected',
    (_what, decision, cur, want) => {
      const next = nextRecord(decision, cur, 'me', 15, at(9_000));
      expect(next).toEqual({ holderIdentity: 'me', leaseDurationSeconds: 15, renewTime: at(9_000), ...want });
    },
  );
});

describe('releasedRecord', () => {
  it('empties the holder, shortens the lease to one second and keeps the transition count', () => {
    expect(releasedRecord(record({ leaseTransitions: 2 }), at(30_000))).toEqual({
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: at(30_000),
      renewTime: at(30_000),
      leaseTransitions: 2,
    });
  });
});

describe('isRenewDeadlinePassed', () => {
  it.each([
    [0, false],
    [9_999, false],
    [10_000, true],
    [12_000, true],
  ])('%i ms after the last renewal with a 10 s deadline → %s', (elapsed, passed) => {
    expect(isRenewDeadlinePassed(T0, T0 + elapsed, 10_000)).toBe(passed);
  });
});

describe('retryDelayMs', () => {
  it.each([
    [0, 2_000],
    [0.5, 2_200],
    [1, 2_400],
  ])('with random %d waits %i ms for a 2 s retry period', (random, ms) => {
    expect(retryDelayMs(2_000, random)).toBe(ms);
  });
});

describe('resolveLeaseNamespace', () => {
  it.each([
    ['the configured namespace wins', 'ops', 'pod-ns', 'ops'],
    ["else the pod's own namespace", undefined, 'pod-ns\n', 'pod-ns'],
  ])('%s', (_what, configured, fromPod, want) => {
    expect(resolveLeaseNamespace(configured, () => fromPod)).toBe(want);
  });

  it('refuses to guess out of a cluster and names the flag', () => {
    expect(() => resolveLeaseNamespace(undefined, () => undefined)).toThrow(
      /--leader-election-namespace: expected a namespace/,
    );
  });
});

describe('leaseBody', () => {
  it('writes MicroTime with the six fractional digits the API server requires, and the resourceVersion', () => {
    const json = JSON.parse(JSON.stringify(leaseBody('ops', 'l', record(), '42'))) as V1Lease;
    expect(json.metadata?.resourceVersion).toBe('42');
    expect(json.spec?.renewTime).toBe('2026-11-01T10:00:00.000000Z');
  });
});

// ------------------------------------------------------------------------------------------------
// The elector's loop, against an in-memory Lease store that enforces resourceVersion like the API
// server (the real server is exercised in test/integration/leader-election.test.ts).

class LeaseStore {
  private lease: V1Lease | undefined;
  private rv = 0;
  writes: { by: string; holder: string }[] = [];

  client(who: string, fault: { mode: 'ok' | 'fail' | 'hang' } = { mode: 'ok' }): LeaseClient {
    const guard = async () => {
      if (fault.mode === 'fail') throw Object.assign(new Error('unavailable'), { code: 503 });
      if (fault.mode === 'hang') await new Promise(() => undefined);
    };
    // JSON round trips: MicroTime becomes a string on the way back, as with the real client.
    const copy = (l: V1Lease) => JSON.parse(JSON.stringify(l)) as V1Lease;
    return {
      read: async () => {
        await guard();
        return this.lease ? copy(this.lease) : undefined;
      },
      create: async (_ns, body) => {
        await guard();
        if (this.lease) throw Object.assign(new Error('exists'), { code: 409 });
        return this.store(who, body);
      },
      replace: async (_ns, _name, body) => {
        await guard();
        if (body.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) {
          throw Object.assign(new Error('conflict'), { code: 409 });
        }
        return this.store(who, body);
      },
    };
  }

  get current(): LeaseRecord | undefined {
    return this.lease ? recordFromLease(JSON.parse(JSON.stringify(this.lease)) as V1Lease) : undefined;
  }

  private store(who: string, body: V1Lease): V1Lease {
    this.rv += 1;
    this.lease = JSON.parse(
      JSON.stringify({ ...body, metadata: { ...body.metadata, resourceVersion: String(this.rv) } }),
    ) as V1Lease;
    this.writes.push({ by: who, holder: body.spec?.holderIdentity ?? '' });
    return JSON.parse(JSON.stringify(this.lease)) as V1Lease;
  }
}

const quiet = {
  info: () => undefined,
  warn: () => undefined,
  debug: () => undefined,
  error: () => undefined,
};
const TIMING = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

interface Candidate {
  elector: LeaderElector;
  fault: { mode: 'ok' | 'fail' | 'hang' };
  started: number[];
  stopped: { at: number; reason: StoppedReason }[];
  done: Promise<void>;
}

function candidate(
  store: LeaseStore,
  identity: string,
  over: { onStartedLeading?: () => Promise<void> } = {},
): Candidate {
  const fault = { mode: 'ok' as 'ok' | 'fail' | 'hang' };
  const started: number[] = [];
  const stopped: { at: number; reason: StoppedReason }[] = [];
  const elector = new LeaderElector({
    client: store.client(identity, fault),
    namespace: 'ops',
    identity,
    ...TIMING,
    onStartedLeading:
      over.onStartedLeading ??
      (() => {
        started.push(Date.now());
      }),
    onStoppedLeading: (reason) => stopped.push({ at: Date.now(), reason }),
    log: quiet,
    random: () => 0,
  });
  return { elector, fault, started, stopped, done: elector.run() };
}

/** Candidate a, leading at once, and candidate b, started after it and run for `thenMs`. */
async function leaderThenFollower(thenMs: number) {
  const store = new LeaseStore();
  const a = candidate(store, 'a');
  await vi.advanceTimersByTimeAsync(0);
  const b = candidate(store, 'b');
  await vi.advanceTimersByTimeAsync(thenMs);
  return { store, a, b };
}

describe('LeaderElector', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('creates the Lease and leads when it is alone, renewing every retry period', async () => {
    const store = new LeaseStore();
    const a = candidate(store, 'a');
    await vi.advanceTimersByTimeAsync(0);
    expect(a.elector.isLeader).toBe(true);
    expect(a.started).toEqual([T0]);
    expect(store.current).toMatchObject({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      leaseTransitions: 0,
    });
    await vi.advanceTimersByTimeAsync(6_000);
    expect(store.current?.renewTime).toEqual(at(6_000));
    expect(store.writes.filter((w) => w.by === 'a')).toHaveLength(4);
    await a.elector.release();
  });

  it('lets a second candidate wait as long as the leader renews', async () => {
    const { store, a, b } = await leaderThenFollower(60_000);
    expect(a.elector.isLeader).toBe(true);
    expect(b.elector.isLeader).toBe(false);
    expect(b.started).toEqual([]);
    expect(store.writes.every((w) => w.holder === 'a')).toBe(true);
    await Promise.all([a.elector.release(), b.elector.release()]);
  });

  it('makes exactly one of two simultaneous candidates leader (the create conflicts)', async () => {
    const store = new LeaseStore();
    const a = candidate(store, 'a');
    const b = candidate(store, 'b');
    await vi.advanceTimersByTimeAsync(30_000);
    expect([a.elector.isLeader, b.elector.isLeader].filter(Boolean)).toHaveLength(1);
    await Promise.all([a.elector.release(), b.elector.release()]);
  });

  it.each([
    ['errors', 'fail'],
    ['never answers', 'hang'],
  ] as const)(
    'stops a leader whose API server %s at the renew deadline, before the other takes over after the lease duration',
    async (_what, mode) => {
      const { store, a, b } = await leaderThenFollower(1_000);
      a.fault.mode = mode;
      const cutAt = Date.now();
      await vi.advanceTimersByTimeAsync(30_000);

      expect(a.stopped).toHaveLength(1);
      expect(a.stopped[0]?.reason).toBe('renew-deadline');
      expect(b.started).toHaveLength(1);
      const aStopped = a.stopped[0]?.at ?? NaN;
      const bStarted = b.started[0] ?? NaN;
      // a's last renewal was at T0 (+ at most one retry period before the cut).
      expect(aStopped - T0).toBeLessThanOrEqual(TIMING.renewDeadlineMs + TIMING.retryPeriodMs);
      // Never two leaders: b starts only after a has stopped, and no sooner than a lease duration.
      expect(bStarted).toBeGreaterThan(aStopped);
      expect(bStarted - cutAt).toBeGreaterThanOrEqual(TIMING.leaseDurationMs - TIMING.retryPeriodMs);
      expect(bStarted - cutAt).toBeLessThanOrEqual(TIMING.leaseDurationMs + 3 * TIMING.retryPeriodMs);
      expect(store.current).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
      await a.done;
      a.fault.mode = 'ok';
      // A hung request in flight is waited for up to the renew deadline.
      const released = Promise.all([a.elector.release(), b.elector.release()]);
      await vi.advanceTimersByTimeAsync(TIMING.renewDeadlineMs);
      await released;
    },
  );

  it('releases on request: empty holder, one-second lease, and the other candidate takes over on its next attempt', async () => {
    const { store, a, b } = await leaderThenFollower(5_000);

    const releasedAt = Date.now();
    await a.elector.release();
    expect(a.stopped).toEqual([{ at: releasedAt, reason: 'released' }]);
    expect(store.current).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    expect(a.elector.state).toBe('stopped');

    await vi.advanceTimersByTimeAsync(3_000);
    expect(b.elector.isLeader).toBe(true);
    expect((b.started[0] ?? NaN) - releasedAt).toBeLessThanOrEqual(TIMING.retryPeriodMs * 1.2);
    await b.elector.release();
  });

  it('stops leading when the lease is found held by someone else', async () => {
    const store = new LeaseStore();
    const a = candidate(store, 'a');
    await vi.advanceTimersByTimeAsync(0);
    // An intruder overwrites the lease (e.g. an operator with another identity and a skewed view).
    const intruder = store.client('x');
    const live = await intruder.read('ops', DEFAULT_LEASE_NAME);
    await intruder.replace('ops', DEFAULT_LEASE_NAME, {
      ...live,
      spec: { ...live?.spec, holderIdentity: 'x' },
    });
    await vi.advanceTimersByTimeAsync(2_500);
    expect(a.stopped.map((s) => s.reason)).toEqual(['lease-lost']);
    await a.done;
    // It no longer holds the lease, so release writes nothing.
    const writes = store.writes.length;
    await a.elector.release();
    expect(store.writes).toHaveLength(writes);
  });

  it('gives up leadership and releases the lease when onStartedLeading fails', async () => {
    const store = new LeaseStore();
    const a = candidate(store, 'a', { onStartedLeading: () => Promise.reject(new Error('informers')) });
    await vi.advanceTimersByTimeAsync(0);
    await a.done;
    expect(a.stopped.map((s) => s.reason)).toEqual(['started-leading-failed']);
    expect(store.current?.holderIdentity).toBe('');
  });

  it('calls neither callback when released before it ever led', async () => {
    const { store, a, b } = await leaderThenFollower(4_000);
    await b.elector.release();
    expect(b.started).toEqual([]);
    expect(b.stopped).toEqual([]);
    expect(store.current?.holderIdentity).toBe('a');
    await a.elector.release();
  });

  it.each([
    [{ leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }],
    [{ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 10_000 }],
  ])('refuses timings where retry period < renew deadline < lease duration does not hold (%o)', (timing) => {
    expect(
      () =>
        new LeaderElector({
          client: new LeaseStore().client('a'),
          namespace: 'ops',
          identity: 'a',
          ...timing,
          onStartedLeading: () => undefined,
          onStoppedLeading: () => undefined,
          log: quiet,
        }),
    ).toThrow(LeaderElectionConfigError);
  });
});

describe('createLeaderElector', () => {
  const config = {
    enabled: true,
    namespace: undefined,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
  };
  const client = new KubeClient(connectionFrom({ server: 'https://127.0.0.1:1' }, 'test'));
  const callbacks = { onStartedLeading: () => undefined, onStoppedLeading: () => undefined, log: quiet };

  it('uses the Lease of the pod namespace and an identity of hostname and a unique part', () => {
    const e = createLeaderElector({
      config,
      client,
      hostname: 'operator-7d9f-abcde',
      unique: 'u-1',
      readServiceAccountNamespace: () => 'scim-system',
      ...callbacks,
    });
    expect(e.lease).toBe(`scim-system/${DEFAULT_LEASE_NAME}`);
    expect(e.identity).toBe('operator-7d9f-abcde_u-1');
    expect(e.state).toBe('idle');
  });

  it('prefers --leader-election-namespace, and fails naming it when there is none', () => {
    const e = createLeaderElector({
      config: { ...config, namespace: 'ops' },
      client,
      hostname: 'h',
      ...callbacks,
    });
    expect(e.lease).toBe(`ops/${DEFAULT_LEASE_NAME}`);
    expect(() =>
      createLeaderElector({
        config,
        client,
        hostname: 'h',
        readServiceAccountNamespace: () => undefined,
        ...callbacks,
      }),
    ).toThrow(/--leader-election-namespace/);
  });
});
