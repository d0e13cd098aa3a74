// Polling the API server until an object reaches a state, with a deadline. Time and sleeping are
// injected so the loop is testable without waiting.

export interface Clock {
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
}

export type Poll<T> = { done: T } | { pending: string };

export class WaitTimeout extends Error {
  constructor(
    readonly lastPending: string,
    readonly waitedMs: number,
  ) {
    super(`timed out after ${Math.round(waitedMs / 1000)}s: ${lastPending}`);
    this.name = 'WaitTimeout';
  }
}

/**
 * Calls `probe` every `intervalMs` until it returns `{done}` (resolves with it) or the deadline
 * passes (rejects with WaitTimeout carrying the last pending reason). Errors thrown by `probe` end
 * the wait at once. `onPending` hears each change of the pending reason (for progress output).
 */
export async function waitUntil<T>(
  probe: () => Promise<Poll<T>>,
  opts: { timeoutMs: number; intervalMs?: number; clock: Clock; onPending?: (why: string) => void },
): Promise<T> {
  const start = opts.clock.now().getTime();
  const interval = opts.intervalMs ?? 250;
  let last = '';
  for (;;) {
    const r = await probe();
    if ('done' in r) return r.done;
    if (r.pending !== last) {
      last = r.pending;
      opts.onPending?.(r.pending);
    }
    const waited = opts.clock.now().getTime() - start;
    if (waited >= opts.timeoutMs) throw new WaitTimeout(last, waited);
    await opts.clock.sleep(Math.min(interval, opts.timeoutMs - waited));
  }
}
