// Cron schedules of ScimTokenRotation (SPEC §2.2), read with cron-parser in the rotation's IANA
// time zone. Pure: the current time is always an argument.
import { CronExpressionParser } from 'cron-parser';

export type ParsedSchedule =
  { ok: true; expression: string; timeZone: string } | { ok: false; message: string };

const ALIASES = new Set(['@hourly', '@daily', '@weekly', '@monthly']);

export function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function parseSchedule(expression: string, timeZone = 'UTC'): ParsedSchedule {
  if (!validTimeZone(timeZone)) {
    return {
      ok: false,
      message: `spec.timeZone "${timeZone}" is not an IANA time zone (e.g. UTC, Europe/Berlin)`,
    };
  }
  const trimmed = expression.trim();
  if (trimmed.startsWith('@') ? !ALIASES.has(trimmed) : trimmed.split(/\s+/).length !== 5) {
    return {
      ok: false,
      message: `spec.schedule "${expression}" must be a 5-field cron expression or one of @hourly, @daily, @weekly, @monthly`,
    };
  }
  try {
    CronExpressionParser.parse(trimmed, { tz: timeZone, currentDate: new Date(0) }).next();
  } catch (err) {
    return { ok: false, message: `spec.schedule "${expression}" is not valid: ${(err as Error).message}` };
  }
  return { ok: true, expression: trimmed, timeZone };
}

/** The first schedule time strictly after `after`. */
export function nextTime(s: { expression: string; timeZone: string }, after: Date): Date {
  return CronExpressionParser.parse(s.expression, { tz: s.timeZone, currentDate: after }).next().toDate();
}

/**
 * The schedule time that is due now, if any: the most recent time t with since < t <= now.
 * Runs missed during downtime collapse into this one (at most one catch-up run).
 */
export function dueTime(
  s: { expression: string; timeZone: string },
  since: Date,
  now: Date,
): Date | undefined {
  const first = nextTime(s, since);
  if (first.getTime() > now.getTime()) return undefined;
  // cron-parser's prev() is strictly before currentDate; nudge to include a time equal to now.
  const latest = CronExpressionParser.parse(s.expression, {
    tz: s.timeZone,
    currentDate: new Date(now.getTime() + 1),
  })
    .prev()
    .toDate();
  return latest.getTime() > since.getTime() ? latest : first;
}
