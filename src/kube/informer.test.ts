// Unit tests for the informer's pure parts: the restart policy and the watch timeouts. The informer
// itself runs against a real API server in the integration tests.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RESTART_POLICY,
  isSilent,
  planRestart,
  rapidReconnectStreak,
  watchTimeoutSeconds,
} from './informer.js';

const NOW = 1_000_000;
const never = undefined;
const always = (value: number) => () => value;

describe('planRestart', () => {
  it.each([
    { failures: 0, random: 0, expected: { failures: 1, delayMs: 200 } },
    { failures: 0, random: 1, expected: { failures: 1, delayMs: 400 } },
    { failures: 1, random: 1, expected: { failures: 2, delayMs: 800 } },
    { failures: 1, random: 0.5, expected: { failures: 2, delayMs: 500 } },
    { failures: 5, random: 1, expected: { failures: 6, delayMs: 12_800 } },
    { failures: 6, random: 1, expected: { failures: 7, delayMs: 25_600 } },
    { failures: 7, random: 1, expected: { failures: 8, delayMs: 30_000 } },
    { failures: 7, random: 0, expected: { failures: 8, delayMs: 200 } },
    { failures: 1_000, random: 1, expected: { failures: 1_001, delayMs: 30_000 } },
  ])(
    'after $failures earlier failures with random() = $random it plans $expected.delayMs ms',
    ({ failures, random, expected }) => {
      expect(
        planRestart({ failures, listedAtMs: never }, NOW, DEFAULT_RESTART_POLICY, always(random)),
      ).toEqual(expected);
    },
  );

  it.each([0, 1, 2, 5, 8, 20])(
    'keeps the delay after %i earlier failures between the minimum and the doubled ceiling',
    (failures) => {
      const ceiling = Math.min(30_000, 200 * 2 ** (failures + 1));
      for (let i = 0; i <= 100; i++) {
        const { delayMs } = planRestart(
          { failures, listedAtMs: never },
          NOW,
          DEFAULT_RESTART_POLICY,
          always(i / 100),
        );
        expect(delayMs).toBeGreaterThanOrEqual(200);
        expect(delayMs).toBeLessThanOrEqual(ceiling);
      }
    },
  );

  it.each([
    { situation: 'never listed', listedAtMs: never, failures: 10 },
    { situation: 'listed but failed within the reset window', listedAtMs: NOW - 59_999, failures: 10 },
    { situation: 'listed and stayed up for the whole reset window', listedAtMs: NOW - 60_000, failures: 1 },
    { situation: 'listed and stayed up for an hour', listedAtMs: NOW - 3_600_000, failures: 1 },
  ])('counts an attempt that $situation as failure number $failures', ({ listedAtMs, failures }) => {
    const plan = planRestart({ failures: 9, listedAtMs }, NOW, DEFAULT_RESTART_POLICY, always(0.5));
    expect(plan.failures).toBe(failures);
  });

  it('waits the minimum again, jittered, once a long-lived connection breaks', () => {
    const plan = planRestart(
      { failures: 9, listedAtMs: NOW - 600_000 },
      NOW,
      DEFAULT_RESTART_POLICY,
      always(1),
    );
    expect(plan).toEqual({ failures: 1, delayMs: 400 });
  });

  it('honours a custom policy', () => {
    const policy = {
      ...DEFAULT_RESTART_POLICY,
      minBackoffMs: 10,
      maxBackoffMs: 50,
      resetBackoffAfterMs: 1_000,
    };
    const delays = [0, 1, 2, 3].map(
      (failures) => planRestart({ failures, listedAtMs: never }, NOW, policy, always(1)).delayMs,
    );
    expect(delays).toEqual([20, 40, 50, 50]);
  });
});

describe('rapidReconnectStreak', () => {
  it.each([
    { streak: 0, sinceMs: 5, expected: 1 },
    { streak: 2, sinceMs: 999, expected: 3 },
    { streak: 2, sinceMs: 1_000, expected: 0 },
    { streak: 7, sinceMs: 1_800_000, expected: 0 },
  ])(
    'turns a streak of $streak into $expected after a reconnect $sinceMs ms later',
    ({ streak, sinceMs, expected }) => {
      expect(rapidReconnectStreak(streak, sinceMs, DEFAULT_RESTART_POLICY)).toBe(expected);
    },
  );

  it('lets one quick re-list after a 410 on a resumed watch pass, but not a loop', () => {
    // A watch resumed after the server's timeout, answered with 410, then re-listed 20 ms later.
    const normal = [1_800_000, 20, 1_800_000, 15].reduce(
      (streak, since) => rapidReconnectStreak(streak, since, DEFAULT_RESTART_POLICY),
      0,
    );
    const loop = [20, 15, 30].reduce(
      (streak, since) => rapidReconnectStreak(streak, since, DEFAULT_RESTART_POLICY),
      0,
    );

    expect(normal).toBeLessThan(DEFAULT_RESTART_POLICY.maxRapidReconnects);
    expect(loop).toBe(DEFAULT_RESTART_POLICY.maxRapidReconnects);
  });
});

describe('watchTimeoutSeconds', () => {
  it.each([
    { min: 5_000, random: 0.5, seconds: 7 },
    { min: 100, random: 0, seconds: 1 },
  ])('asks for $seconds s with a $min ms minimum and random() = $random', ({ min, random, seconds }) => {
    expect(watchTimeoutSeconds(always(random), min)).toBe(seconds);
  });

  it.each([
    { random: 0, seconds: 300 },
    { random: 0.5, seconds: 450 },
    { random: 0.9999, seconds: 599 },
    { random: 1, seconds: 599 },
    { random: -1, seconds: 300 },
  ])('asks for $seconds s when random() = $random (5 to 10 minutes, as client-go)', ({ random, seconds }) => {
    expect(watchTimeoutSeconds(always(random))).toBe(seconds);
  });
});

describe('isSilent', () => {
  it.each([
    { silentForMs: 0, silent: false },
    { silentForMs: 90_000, silent: false },
    { silentForMs: 90_001, silent: true },
    { silentForMs: 3_600_000, silent: true },
  ])('after $silentForMs ms without a sign of life with a 90 s bound: $silent', ({ silentForMs, silent }) => {
    expect(isSilent(NOW - silentForMs, NOW, 90_000)).toBe(silent);
  });
});
