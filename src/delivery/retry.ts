// When a delivery request is tried again (SPEC §2.7): which answers are worth a retry, how long the
// server asked us to wait (`Retry-After`, RFC 9110 §10.2.3), and the exponential backoff with jitter
// used when it did not say. Pure: the current time and the random number come in as arguments.

/** 429 and every 5xx may succeed later; any other 4xx will not until something is changed. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/**
 * The wait a `Retry-After` header asks for, in milliseconds: delay-seconds ("120") or an HTTP-date
 * ("Wed, 21 Oct 2015 07:28:00 GMT", taken relative to `now`; a date in the past means 0).
 * undefined when the header is absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) {
    const seconds = Number(v);
    return Number.isSafeInteger(seconds) ? seconds * 1000 : undefined;
  }
  // Date.parse accepts far more than IMF-fixdate; insist on the shape of an HTTP-date (a weekday,
  // a comma or the obsolete forms' spaces, and a time) so that "soon" or "1.5" is not a date.
  if (!/^[A-Za-z]{3,9},? .*\d{1,2}:\d{2}:\d{2}/.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/**
 * The wait before retry number `attempt` (1 = the first retry): the server's Retry-After if it gave
 * one, plus up to 10% so that many clients told the same instant do not return together; otherwise
 * exponential (base · 2^(attempt-1), capped) with "equal jitter" — half fixed, half random — so it
 * never collapses to zero. `random` is in [0, 1).
 */
export function retryDelayMs(
  attempt: number,
  retryAfterMs: number | undefined,
  random: number,
  { baseMs, maxMs }: BackoffOptions,
): number {
  if (retryAfterMs !== undefined) return Math.ceil(retryAfterMs + retryAfterMs * 0.1 * random);
  const exp = Math.min(baseMs * 2 ** Math.max(0, attempt - 1), maxMs);
  return Math.ceil(exp / 2 + (exp / 2) * random);
}
