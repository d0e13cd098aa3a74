// Leader election on coordination.k8s.io/v1 Leases (SPEC §5), on the real API server.
//
// 1. The elector (src/kube/leader-election.ts) in this process: one leader among candidates, no
//    overlap when the leader is cut off, failover within the lease duration, instant hand-over on
//    release.
// 2. Two operator processes (src/main.ts with --leader-elect): only the leader reconciles; SIGKILL
//    the leader and the other takes over within the lease duration, with no rotation applied twice;
//    SIGTERM releases the Lease so a standby takes over at once. These need the elector wired into
//    main.ts/operator.ts and fail until it is.
import { afterAll, describe, expect, it } from 'vitest';
import {
  LeaderElector,
  leaseClient,
  recordFromLease,
  type LeaseClient,
  type LeaseRecord,
  type StoppedReason,
} from '../../src/kube/leader-election.js';
import { useTestNamespace } from './support/context.js';
import { kubeClientOf, waitFor } from './support/kube.js';
import { metricTotal, saveOutput, startOperator, type OperatorProcess } from './support/operator.js';
import { Scim } from './support/scim.js';

const ctx = useTestNamespace('le');
const quiet = {
  info: () => undefined,
  warn: () => undefined,
  debug: () => undefined,
  error: () => undefined,
};

async function readLease(name: string): Promise<LeaseRecord | undefined> {
  const lease = await leaseClient(kubeClientOf(ctx.kc)).read(ctx.namespace, name);
  return lease ? recordFromLease(lease) : undefined;
}

describe('the elector on the API server', () => {
  const TIMING = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 250 };

  interface Candidate {
    elector: LeaderElector;
    startedAt: number | undefined;
    stopped: { at: number; reason: StoppedReason }[];
    partition(): void;
  }

  const electors: LeaderElector[] = [];
  afterAll(async () => {
    await Promise.all(electors.map((e) => e.release()));
  });

  function candidate(lease: string, identity: string): Candidate {
    let partitioned = false;
    const real = leaseClient(kubeClientOf(ctx.kc));
    const cut = () => Promise.reject(Object.assign(new Error('partitioned'), { code: 503 }));
    // The same API server, but the network can be cut for this candidate alone.
    const client: LeaseClient = {
      read: (ns, name) => (partitioned ? cut() : real.read(ns, name)),
      create: (ns, body) => (partitioned ? cut() : real.create(ns, body)),
      replace: (ns, name, body) => (partitioned ? cut() : real.replace(ns, name, body)),
    };
    const c: Candidate = {
      startedAt: undefined,
      stopped: [],
      partition: () => (partitioned = true),
      elector: new LeaderElector({
        client,
        namespace: ctx.namespace,
        name: lease,
        identity,
        ...TIMING,
        onStartedLeading: () => {
          c.startedAt = Date.now();
        },
        onStoppedLeading: (reason) => c.stopped.push({ at: Date.now(), reason }),
        log: quiet,
      }),
    };
    electors.push(c.elector);
    void c.elector.run();
    return c;
  }

  it('makes exactly one of five simultaneous candidates leader, and the Lease names it', async () => {
    const all = ['a', 'b', 'c', 'd', 'e'].map((id) => candidate('five', id));
    await waitFor('a leader', () => (all.some((c) => c.elector.isLeader) ? true : undefined));
    await new Promise((r) => setTimeout(r, 1_000));
    const leaders = all.filter((c) => c.elector.isLeader);
    expect(leaders).toHaveLength(1);
    expect(await readLease('five')).toMatchObject({
      holderIdentity: leaders[0]?.elector.identity,
      leaseDurationSeconds: 3,
      leaseTransitions: 0,
    });
    await Promise.all(all.map((c) => c.elector.release()));
  });

  it('fails over within the lease duration when the leader is cut off, and never with two leaders', async () => {
    const a = candidate('cut', 'a');
    await waitFor('a to lead', () => (a.elector.isLeader ? true : undefined));
    const b = candidate('cut', 'b');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(b.elector.isLeader).toBe(false);

    a.partition();
    const cutAt = Date.now();
    await waitFor('b to take over', () => (b.startedAt !== undefined ? true : undefined), {
      timeoutMs: 15_000,
    });

    expect(a.stopped.map((s) => s.reason)).toEqual(['renew-deadline']);
    const aStopped = a.stopped[0]!.at;
    const bStarted = b.startedAt!;
    // a stops acting before b may act: a stops at its renew deadline, b waits a lease duration.
    expect(bStarted).toBeGreaterThan(aStopped);
    expect(aStopped - cutAt).toBeLessThanOrEqual(TIMING.renewDeadlineMs + 500);
    // Within the lease duration of a's last renewal, give or take the observation interval.
    expect(bStarted - cutAt).toBeLessThanOrEqual(
      TIMING.leaseDurationMs + 2 * TIMING.retryPeriodMs * 1.2 + 1_000,
    );
    expect(await readLease('cut')).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    await b.elector.release();
  });

  it('hands over at once when the leader releases the Lease', async () => {
    const a = candidate('handover', 'a');
    await waitFor('a to lead', () => (a.elector.isLeader ? true : undefined));
    const b = candidate('handover', 'b');
    await new Promise((r) => setTimeout(r, 1_000));

    const releasedAt = Date.now();
    await a.elector.release();
    expect(a.stopped.map((s) => s.reason)).toEqual(['released']);
    await waitFor('b to take over', () => (b.startedAt !== undefined ? true : undefined));
    expect(b.startedAt! - releasedAt).toBeLessThan(TIMING.leaseDurationMs / 2);

    await b.elector.release();
    expect(await readLease('handover')).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
  });
});

describe('two operator processes', () => {
  const LEASE = { durationMs: 4_000, retryMs: 500 };
  // A function: ctx.namespace is only known once the file's beforeAll ran.
  const args = () => [
    '--leader-elect',
    '--leader-election-namespace',
    ctx.namespace,
    '--lease-duration',
    `${LEASE.durationMs / 1000}s`,
    '--renew-deadline',
    '3s',
    '--retry-period',
    `${LEASE.retryMs}ms`,
    // Every object is looked at again each second: a second leader would show up quickly.
    '--resync-period',
    '1s',
  ];
  const processes: OperatorProcess[] = [];
  afterAll(async () => {
    for (const [i, p] of processes.entries()) {
      await p.stop('SIGKILL');
      saveOutput(ctx.runId, `leader-election-${i}`, p.output());
    }
  });

  async function start(): Promise<OperatorProcess> {
    // Not waiting for /readyz: readiness is the verifier's and the informers', not leadership.
    const p = await startOperator({
      kubeconfig: ctx.kubeconfig,
      namespaces: [ctx.namespace],
      args: args(),
      waitReady: false,
    });
    processes.push(p);
    return p;
  }

  async function leaderOf(candidates: OperatorProcess[]): Promise<OperatorProcess> {
    return waitFor(
      'exactly one process to report scim_leader 1 (needs the elector wired into main.ts)',
      async () => {
        const flags = await Promise.all(candidates.map((p) => metricTotal(p, 'scim_leader')));
        return flags.filter((f) => f === 1).length === 1 ? candidates[flags.indexOf(1)] : undefined;
      },
      { timeoutMs: 20_000 },
    );
  }

  async function holder(): Promise<string> {
    return (await readLease('scim-token-operator-leader'))?.holderIdentity ?? '';
  }

  it('lets only the leader reconcile; after SIGKILL the other takes over within the lease duration without rotating twice; SIGTERM releases the Lease', async () => {
    const scim = new Scim(ctx, ctx.namespace);
    const first = await start();
    const second = await start();

    const leader = await leaderOf([first, second]);
    const follower = leader === first ? second : first;
    const leaderId = await waitFor('the Lease to name a holder', async () => (await holder()) || undefined);
    expect(leader.output()).toContain(leaderId);

    // Issue and rotate under the first leader.
    await scim.createDomain('one', { domain: `one-${ctx.runId}.example` });
    await scim.waitForReady('one');
    const rotation = await scim.createRotation('one-rotate', { domainRef: { name: 'one' } });
    await scim.waitForRotation('one-rotate', { reason: 'Rotated', status: 'True' });
    expect(await metricTotal(leader, 'scim_reconcile_total')).toBeGreaterThan(0);
    expect(await metricTotal(follower, 'scim_reconcile_total')).toBe(0);
    expect(await metricTotal(follower, 'scim_leader')).toBe(0);

    // SIGKILL: no release, the Lease must expire.
    const killedAt = Date.now();
    await leader.stop('SIGKILL');
    await waitFor(
      'the follower to take over',
      async () =>
        (await metricTotal(follower, 'scim_leader')) === 1 && (await holder()) !== leaderId
          ? true
          : undefined,
      { timeoutMs: 20_000, intervalMs: 50 },
    );
    const failoverMs = Date.now() - killedAt;
    // The lease duration after the last renewal the follower saw, plus that observation's delay
    // (up to one jittered retry period) and the poll that notices expiry (another one).
    expect(failoverMs).toBeLessThanOrEqual(LEASE.durationMs + 2 * LEASE.retryMs * 1.2 + 1_000);

    // The new leader reconciles, and does not apply the rotation again.
    await scim.createDomain('two', { domain: `two-${ctx.runId}.example` });
    await scim.waitForReady('two');
    await new Promise((r) => setTimeout(r, 3_000));
    const one = await scim.getDomain('one');
    expect(one.status?.token?.generation).toBe(2);
    expect(one.status?.appliedRotations?.filter((u) => u === rotation.metadata.uid)).toHaveLength(1);
    expect(one.status?.revokedTokens?.filter((t) => t.reason === 'Rotated')).toHaveLength(1);
    expect((await scim.events('one-rotate')).filter((e) => e.reason === 'TokenRotated')).toHaveLength(1);

    // SIGTERM: the leader finishes, releases the Lease, and a standby takes over at once.
    const standby = await start();
    // Let it campaign (and see the lease held) before the leader goes.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await metricTotal(standby, 'scim_leader')).toBe(0);
    const termAt = Date.now();
    await follower.stop('SIGTERM');
    expect(await follower.exited).toBe(0);
    await waitFor(
      'the standby to lead',
      async () => ((await metricTotal(standby, 'scim_leader')) === 1 ? true : undefined),
      {
        intervalMs: 50,
      },
    );
    // Released, not expired: well under a lease duration.
    expect(Date.now() - termAt).toBeLessThan(LEASE.durationMs);

    await standby.stop('SIGTERM');
    expect(await standby.exited).toBe(0);
    expect(await readLease('scim-token-operator-leader')).toMatchObject({ holderIdentity: '' });
  }, 120_000);
});
