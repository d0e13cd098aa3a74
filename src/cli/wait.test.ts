import { describe, expect, it } from 'vitest';
import { WaitTimeout, waitUntil, type Clock } from './wait.js';

function fakeClock(): Clock & { slept: number[] } {
  let t = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => new Date(t),
    sleep: (ms) => {
      slept.push(ms);
      t += ms;
      return Promise.resolve();
    },
  };
}

describe('waitUntil', () => {
  it('polls until done and reports each new pending reason once', async () => {
    const clock = fakeClock();
    const answers = [{ pending: 'a' }, { pending: 'a' }, { pending: 'b' }, { done: 42 }];
    const heard: string[] = [];
    const v = await waitUntil(async () => Promise.resolve(answers.shift()!), {
      timeoutMs: 10_000,
      intervalMs: 100,
      clock,
      onPending: (w) => heard.push(w),
    });
    expect(v).toBe(42);
    expect(heard).toEqual(['a', 'b']);
    expect(clock.slept).toEqual([100, 100, 100]);
  });

  it('gives up at the deadline with the last pending reason', async () => {
    const clock = fakeClock();
    const err = await waitUntil(() => Promise.resolve({ pending: 'still issuing' }), {
      timeoutMs: 1000,
      intervalMs: 300,
      clock,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeout);
    expect((err as WaitTimeout).lastPending).toBe('still issuing');
    expect(clock.slept).toEqual([300, 300, 300, 100]);
  });

  it('stops at once when the probe throws', async () => {
    await expect(
      waitUntil(() => Promise.reject(new Error('terminal')), { timeoutMs: 1000, clock: fakeClock() }),
    ).rejects.toThrow('terminal');
  });
});
