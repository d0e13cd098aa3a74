import { describe, expect, it } from 'vitest';
import { isRetryableStatus, parseRetryAfter, retryDelayMs } from './retry.js';

const NOW = new Date('2015-10-21T07:27:00Z');

describe('parseRetryAfter', () => {
  it.each<[string | undefined, number | undefined]>([
    [undefined, undefined],
    ['1', 1000],
    ['0', 0],
    [' 120 ', 120_000],
    ['Wed, 21 Oct 2015 07:28:00 GMT', 60_000],
    ['Wednesday, 21-Oct-15 07:28:00 GMT', 60_000],
    ['Wed Oct 21 07:28:00 2015', 60_000],
    ['Wed, 21 Oct 2015 07:00:00 GMT', 0],
    ['', undefined],
    ['-1', undefined],
    ['1.5', undefined],
    ['soon', undefined],
    ['2015-10-21T07:28:00Z', undefined],
    ['Wed, 99 Foo 2015 07:28:00 GMT', undefined],
  ])('reads %j as %j ms', (header, want) => {
    expect(parseRetryAfter(header, NOW)).toBe(want);
  });
});

describe('isRetryableStatus', () => {
  it.each([
    [429, true],
    [500, true],
    [502, true],
    [503, true],
    [504, true],
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [409, false],
    [204, false],
  ])('HTTP %i: %s', (status, want) => {
    expect(isRetryableStatus(status)).toBe(want);
  });
});

describe('retryDelayMs', () => {
  const backoff = { baseMs: 500, maxMs: 30_000 };
  it.each([
    { attempt: 1, retryAfter: 1000, random: 0, want: 1000 },
    { attempt: 1, retryAfter: 1000, random: 0.999, want: 1100 },
    { attempt: 4, retryAfter: 0, random: 0.5, want: 0 },
    { attempt: 1, retryAfter: undefined, random: 0, want: 250 },
    { attempt: 1, retryAfter: undefined, random: 0.999, want: 500 },
    { attempt: 3, retryAfter: undefined, random: 0, want: 1000 },
    { attempt: 20, retryAfter: undefined, random: 0, want: 15_000 },
    { attempt: 20, retryAfter: undefined, random: 0.999999, want: 30_000 },
  ])(
    'retry $attempt, Retry-After $retryAfter, random $random: $want ms',
    ({ attempt, retryAfter, random, want }) => {
      expect(retryDelayMs(attempt, retryAfter, random, backoff)).toBe(want);
    },
  );

  it('never waits less than the server asked', () => {
    for (let i = 0; i < 100; i++)
      expect(retryDelayMs(1, 1000, i / 100, backoff)).toBeGreaterThanOrEqual(1000);
  });
});
