// Go-style durations ("500ms", "15s", "1h30m"): the flags of SPEC §5 and a rotation's spec.overlap
// (SPEC §1.2) are written this way. Pure.

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
// Larger than any sensible period, and keeps setTimeout (max 2^31-1 ms) from firing immediately.
const MAX_DURATION_MS = 24 * 3_600_000;

/**
 * Parses a positive Go-style duration ("500ms", "15s", "2m", "1h30m", "1.5s") into whole milliseconds.
 * A bare number is rejected: "15" could mean seconds or milliseconds, and guessing wrong is silent.
 */
export function parseDuration(value: string): number {
  const v = value.trim();
  const expected = `expected a duration such as 15s, got ${JSON.stringify(value)}`;
  if (!DURATION.test(v)) throw new Error(expected);
  let ms = 0;
  for (const [, amount, unit] of v.matchAll(DURATION_PART)) {
    ms += Number(amount) * (DURATION_UNITS_MS[unit ?? ''] ?? NaN);
  }
  ms = Math.round(ms);
  if (!Number.isFinite(ms) || ms <= 0)
    throw new Error(`expected a duration greater than 0, got ${JSON.stringify(value)}`);
  if (ms > MAX_DURATION_MS)
    throw new Error(`expected a duration of at most 24h, got ${JSON.stringify(value)}`);
  return ms;
}

/** 90000 → "1m30s"; used only to phrase error messages. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  let rest = ms;
  let out = '';
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return rest > 0 ? `${out}${rest}ms` : out;
}
