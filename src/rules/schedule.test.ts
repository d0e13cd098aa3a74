import { describe, expect, it } from 'vitest';
import { dueTime, nextTime, parseSchedule } from './schedule.js';

const at = (s: string) => new Date(s);

describe('parseSchedule', () => {
  it.each([
    ['0 3 1 * *', 'Europe/Berlin'],
    ['*/5 * * * *', 'UTC'],
    ['@hourly', 'UTC'],
    ['@daily', 'America/New_York'],
    ['@weekly', 'Asia/Tokyo'],
    ['@monthly', 'UTC'],
  ])('accepts %s in %s', (expr, tz) => {
    expect(parseSchedule(expr, tz).ok).toBe(true);
  });

  it.each([
    ['61 * * * *', 'UTC', /not valid/],
    ['* * * *', 'UTC', /5-field/],
    ['* * * * * *', 'UTC', /5-field/],
    ['@yearly', 'UTC', /@hourly, @daily/],
    ['0 3 * * *', 'Mars/Olympus', /not an IANA time zone/],
  ])('refuses %s in %s with a message naming the field', (expr, tz, message) => {
    const p = parseSchedule(expr, tz);
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.message).toMatch(message);
  });
});

describe('schedule times', () => {
  const berlin = { expression: '0 3 1 * *', timeZone: 'Europe/Berlin' };
  it('reads the cron expression in the rotation time zone', () => {
    expect(nextTime(berlin, at('2026-11-29T18:00:00Z')).toISOString()).toBe('2026-12-01T02:00:00.000Z');
    expect(nextTime(berlin, at('2026-06-15T00:00:00Z')).toISOString()).toBe('2026-07-01T01:00:00.000Z');
  });

  const hourly = { expression: '@hourly', timeZone: 'UTC' };
  it.each([
    ['nothing is due before the first time', '2026-11-29T18:10:00Z', '2026-11-29T18:59:59Z', undefined],
    [
      'the time itself is due at that instant',
      '2026-11-29T18:10:00Z',
      '2026-11-29T19:00:00Z',
      '2026-11-29T19:00:00.000Z',
    ],
    ['one missed time is due', '2026-11-29T18:10:00Z', '2026-11-29T19:30:00Z', '2026-11-29T19:00:00.000Z'],
    [
      'many missed times collapse into the latest one',
      '2026-11-29T18:10:00Z',
      '2026-11-30T06:30:00Z',
      '2026-11-30T06:00:00.000Z',
    ],
    ['a time already run is not due again', '2026-11-29T19:00:00Z', '2026-11-29T19:30:00Z', undefined],
  ])('%s', (_what, since, now, want) => {
    expect(dueTime(hourly, at(since), at(now))?.toISOString()).toBe(want);
  });
});
