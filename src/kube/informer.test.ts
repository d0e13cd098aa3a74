// Unit tests for the informer's pure parts: the restart policy, what an error may put in the log,
// and object keys. The informer itself runs against a real API server in the integration tests.
import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RESTART_POLICY,
  describeError,
  isSilent,
  objectKey,
  planRestart,
  rapidReconnectStreak,
  splitObjectKey,
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

describe('describeError', () => {
  const SECRET_VALUE = 'c2N0X3N1cGVyc2VjcmV0dG9rZW4=';

  it('keeps the status code and Status reason of an API error but none of its body or headers', () => {
    const body = JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      reason: 'Forbidden',
      message: 'secrets is forbidden',
      code: 403,
      details: { causes: [{ message: SECRET_VALUE }] },
    });
    const err = new ApiException(403, 'Unknown API Status Code!', body, { 'x-audit': SECRET_VALUE });

    const summary = describeError(err);

    expect(summary).toEqual({ code: 403, reason: 'Forbidden', message: 'HTTP-Code: 403' });
    expect(JSON.stringify(summary)).not.toContain(SECRET_VALUE);
  });

  it('drops a response body that holds objects rather than a Status', () => {
    const body = { kind: 'SecretList', items: [{ data: { token: SECRET_VALUE } }] };
    const err = new ApiException(500, 'Unknown API Status Code!', body, {});

    const summary = describeError(err);

    expect(summary).toEqual({ code: 500, message: 'HTTP-Code: 500' });
    expect(JSON.stringify(summary)).not.toContain(SECRET_VALUE);
  });

  it.each([
    {
      kind: 'a failed watch request',
      err: Object.assign(new Error('Gone'), { statusCode: 410 }),
      expected: { code: 410, message: 'Gone' },
    },
    {
      kind: 'a refused connection',
      err: Object.assign(new Error('request to https://127.0.0.1:6443/api failed, reason: refused'), {
        code: 'ECONNREFUSED',
      }),
      expected: {
        code: 'ECONNREFUSED',
        message: 'request to https://127.0.0.1:6443/api failed, reason: refused',
      },
    },
    { kind: 'a thrown string', err: 'boom', expected: { message: 'boom' } },
    { kind: 'nothing at all', err: undefined, expected: { message: 'undefined' } },
    { kind: 'an object without a message', err: { code: 7 }, expected: { code: 7, message: '' } },
  ])('summarises $kind', ({ err, expected }) => {
    expect(describeError(err)).toEqual(expected);
  });

  it('cuts a long message short', () => {
    expect(describeError(new Error('x'.repeat(5_000))).message).toHaveLength(200);
  });
});

describe('objectKey', () => {
  it.each([
    { metadata: { namespace: 'team-a', name: 'example.com' }, key: 'team-a/example.com' },
    { metadata: { name: 'cluster-wide' }, key: 'cluster-wide' },
    { metadata: { namespace: '', name: 'cluster-wide' }, key: 'cluster-wide' },
  ])('names $metadata as "$key"', ({ metadata, key }) => {
    expect(objectKey({ metadata })).toBe(key);
  });

  it.each(['team-a/example.com', 'cluster-wide'])('splits "%s" back into what objectKey joined', (key) => {
    const { namespace, name } = splitObjectKey(key);
    expect(objectKey({ metadata: { name, ...(namespace === undefined ? {} : { namespace }) } })).toBe(key);
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
