import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_BACKOFF, TerminalError, WorkQueue, backoffDelayMs } from './work-queue.js';
import type { ReconcileResult, WorkQueueOptions } from './work-queue.js';

interface Run {
  key: string;
  settled: boolean;
  finish: (result?: ReconcileResult) => void;
  fail: (err: unknown) => void;
}

// A handler whose runs stay in flight until the test finishes or fails them, recording what ran and
// the most runs of one key that were ever in flight at once.
function controlledHandler() {
  const runs: Run[] = [];
  const inFlight = new Map<string, number>();
  let maxPerKey = 0;
  const handler = (key: string): Promise<ReconcileResult> => {
    const now = (inFlight.get(key) ?? 0) + 1;
    inFlight.set(key, now);
    maxPerKey = Math.max(maxPerKey, now);
    return new Promise<ReconcileResult>((resolve, reject) => {
      const run: Run = {
        key,
        settled: false,
        finish: (result) => {
          done();
          resolve(result);
        },
        fail: (err) => {
          done();
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      };
      const done = () => {
        run.settled = true;
        inFlight.set(key, (inFlight.get(key) ?? 1) - 1);
      };
      runs.push(run);
    });
  };
  return {
    handler,
    runs,
    keys: () => runs.map((r) => r.key),
    maxPerKey: () => maxPerKey,
    /** Runs still in flight, oldest first. */
    open: () => runs.filter((r) => !r.settled),
    /** The latest run of `key`, which the test expects to exist. */
    last(key: string): Run {
      const run = runs.findLast((r) => r.key === key);
      if (!run) throw new Error(`no run of ${key}`);
      return run;
    },
  };
}

// Lets promise continuations (a finished handler's bookkeeping) run without moving the clock.
const settle = () => vi.advanceTimersByTimeAsync(0);

// random() = 0.5 puts the jitter factor at exactly 1, so delays are base·2^(n-1).
const NO_JITTER_RANDOM = () => 0.5;

function queueWith(handler: (key: string) => Promise<ReconcileResult>, opts: Partial<WorkQueueOptions> = {}) {
  return new WorkQueue(handler, { name: 'test', workers: 1, random: NO_JITTER_RANDOM, ...opts });
}

/** A started queue whose reconciles the test finishes itself (`h`). */
function startedQueue(opts: Partial<WorkQueueOptions> = {}) {
  const h = controlledHandler();
  const q = queueWith(h.handler, opts);
  q.start();
  return { h, q };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('backoffDelayMs', () => {
  it.each([
    { failures: 1, random: 0.5, expected: 100 },
    { failures: 2, random: 0.5, expected: 200 },
    { failures: 3, random: 0.5, expected: 400 },
    { failures: 10, random: 0.5, expected: 51_200 },
    { failures: 11, random: 0.5, expected: 60_000 },
    { failures: 500, random: 0.5, expected: 60_000 },
    { failures: 0, random: 0.5, expected: 100 },
    { failures: 1, random: 0, expected: 80 },
    { failures: 1, random: 1, expected: 120 },
    { failures: 3, random: 0.25, expected: 360 },
    { failures: 11, random: 0, expected: 48_000 },
    { failures: 11, random: 1, expected: 60_000 },
  ])(
    'waits $expected ms after failure $failures when random() is $random, with the defaults',
    ({ failures, random, expected }) => {
      expect(backoffDelayMs(failures, DEFAULT_BACKOFF, () => random)).toBe(expected);
    },
  );

  it.each([1, 2, 5, 9, 10])('keeps failure %i within ±20% of base·2^(n-1) for any random()', (failures) => {
    const nominal = 100 * 2 ** (failures - 1);
    for (let i = 0; i <= 1000; i++) {
      const delay = backoffDelayMs(failures, DEFAULT_BACKOFF, () => i / 1000);
      expect(delay).toBeGreaterThanOrEqual(Math.floor(nominal * 0.8));
      expect(delay).toBeLessThanOrEqual(Math.ceil(nominal * 1.2));
    }
  });

  it('never exceeds the maximum, even with the largest jitter', () => {
    const opts = { baseDelayMs: 100, maxDelayMs: 1_000, jitter: 0.5 };
    for (let failures = 1; failures <= 40; failures++) {
      expect(backoffDelayMs(failures, opts, () => 0.999)).toBeLessThanOrEqual(1_000);
    }
  });
});

describe('WorkQueue', () => {
  it('reconciles a key that was added several times while waiting only once', async () => {
    const h = controlledHandler();
    const q = queueWith(h.handler);

    q.add('ns/a');
    q.add('ns/a');
    q.add('ns/b');
    q.add('ns/a');
    expect(q.depth).toBe(2);
    q.start();
    h.last('ns/a').finish();
    await settle();
    h.last('ns/b').finish();
    await settle();

    expect(h.keys()).toEqual(['ns/a', 'ns/b']);
    expect(q.depth).toBe(0);
  });

  it('holds keys added before start until start is called', async () => {
    const h = controlledHandler();
    const q = queueWith(h.handler);

    q.add('ns/a');
    await settle();
    expect(h.runs).toHaveLength(0);

    q.start();
    expect(h.keys()).toEqual(['ns/a']);
  });

  it('runs a key added during its own reconcile once more, after that reconcile ends', async () => {
    const { h, q } = startedQueue({ workers: 4 });

    q.add('ns/a');
    q.add('ns/a');
    q.add('ns/a');
    expect(q.inFlight).toBe(1);
    expect(q.depth).toBe(0);
    expect(h.runs).toHaveLength(1);

    h.last('ns/a').finish();
    await settle();
    expect(h.runs).toHaveLength(2);
    h.last('ns/a').finish();
    await settle();

    expect(h.keys()).toEqual(['ns/a', 'ns/a']);
    expect(h.maxPerKey()).toBe(1);
    expect(q.inFlight).toBe(0);
  });

  it.each([1, 2, 3, 5])('runs at most %i different keys at once with that many workers', async (workers) => {
    const h = controlledHandler();
    const q = queueWith(h.handler, { workers });
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (const k of keys) q.add(k);
    q.start();

    expect(q.inFlight).toBe(workers);
    expect(q.depth).toBe(keys.length - workers);
    let peak = 0;
    for (let next = h.open()[0]; next; next = h.open()[0]) {
      peak = Math.max(peak, q.inFlight);
      next.finish();
      await settle();
    }

    expect(peak).toBe(workers);
    expect(h.keys()).toEqual(keys);
  });

  it('reports the number of waiting keys whenever it changes', async () => {
    const h = controlledHandler();
    const depths: number[] = [];
    const q = queueWith(h.handler, { onDepthChange: (d) => depths.push(d) });

    q.add('a');
    q.add('b');
    q.add('a');
    q.start();
    h.last('a').finish();
    await settle();

    expect(depths).toEqual([1, 2, 1, 0]);
  });

  it('backs a failing key off exponentially and never retries it early', async () => {
    const attempts: number[] = [];
    const delays: (number | undefined)[] = [];
    const handler = vi.fn((): Promise<ReconcileResult> =>
      Promise.reject(new Error('API server unavailable')),
    );
    const q = queueWith(handler, {
      onError: (_key, _err, attempt, delayMs) => {
        attempts.push(attempt);
        delays.push(delayMs);
      },
    });
    q.start();
    q.add('ns/a');
    await settle();

    for (const delay of [100, 200, 400, 800, 1600]) {
      const calls = handler.mock.calls.length;
      await vi.advanceTimersByTimeAsync(delay - 1);
      expect(handler).toHaveBeenCalledTimes(calls);
      await vi.advanceTimersByTimeAsync(1);
      expect(handler).toHaveBeenCalledTimes(calls + 1);
    }

    expect(attempts).toEqual([1, 2, 3, 4, 5, 6]);
    expect(delays).toEqual([100, 200, 400, 800, 1600, 3200]);
  });

  it('caps the backoff at maxDelayMs', async () => {
    const delays: (number | undefined)[] = [];
    const q = queueWith(() => Promise.reject(new Error('boom')), {
      baseDelayMs: 100,
      maxDelayMs: 500,
      onError: (_k, _e, _a, delayMs) => delays.push(delayMs),
    });
    q.start();
    q.add('ns/a');
    await vi.advanceTimersByTimeAsync(100 + 200 + 400 + 500 + 500);

    expect(delays).toEqual([100, 200, 400, 500, 500, 500]);
  });

  it('spreads retry delays by the jitter fraction', async () => {
    const delays: (number | undefined)[] = [];
    const randoms = [0, 1];
    const q = queueWith(() => Promise.reject(new Error('boom')), {
      baseDelayMs: 1_000,
      jitter: 0.1,
      random: () => randoms.shift() ?? 0.5,
      onError: (_k, _e, _a, delayMs) => delays.push(delayMs),
    });
    q.start();
    q.add('ns/a');
    await vi.advanceTimersByTimeAsync(900);

    expect(delays).toEqual([900, 2_200]);
  });

  it('starts from the base delay again after a success', async () => {
    const outcomes = ['fail', 'fail', 'ok', 'fail'];
    const delays: (number | undefined)[] = [];
    const q = queueWith(
      () => (outcomes.shift() === 'ok' ? Promise.resolve() : Promise.reject(new Error('transient'))),
      { onError: (_k, _e, _a, delayMs) => delays.push(delayMs) },
    );
    q.start();
    q.add('ns/a');
    await vi.advanceTimersByTimeAsync(100 + 200);
    q.add('ns/a');
    await settle();

    expect(outcomes).toEqual([]);
    expect(delays).toEqual([100, 200, 100]);
  });

  it('reports a TerminalError once and does not retry it', async () => {
    const errors: { attempt: number; delayMs: number | undefined; terminal: boolean }[] = [];
    const handler = vi.fn(() => Promise.reject(new TerminalError('spec.domain is not a DNS name')));
    const q = queueWith(handler, {
      onError: (_k, err, attempt, delayMs) =>
        errors.push({ attempt, delayMs, terminal: err instanceof TerminalError }),
    });
    q.start();
    q.add('ns/a');
    await vi.advanceTimersByTimeAsync(10 * 60_000);

    expect(handler).toHaveBeenCalledTimes(1);
    expect(errors).toEqual([{ attempt: 1, delayMs: undefined, terminal: true }]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('forgets earlier transient failures when a TerminalError ends them', async () => {
    const outcomes: Error[] = [new Error('a'), new TerminalError('b'), new Error('c')];
    const attempts: number[] = [];
    const q = queueWith(() => Promise.reject(outcomes.shift() ?? new Error('unexpected')), {
      onError: (_k, _e, attempt) => attempts.push(attempt),
    });
    q.start();
    q.add('ns/a');
    await vi.advanceTimersByTimeAsync(100);
    q.add('ns/a');
    await settle();

    expect(attempts).toEqual([1, 2, 1]);
  });

  it('runs a key again requeueAfterMs after a successful reconcile asked for it', async () => {
    const handler = vi.fn((): Promise<ReconcileResult> => Promise.resolve({ requeueAfterMs: 5_000 }));
    const q = queueWith(handler);
    q.start();
    q.add('ns/a');
    await settle();

    await vi.advanceTimersByTimeAsync(4_999);
    expect(handler).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(handler).toHaveBeenCalledTimes(2);
  });

  it.each([
    { first: 1_000, second: 500, runsAt: 500 },
    { first: 500, second: 1_000, runsAt: 500 },
    { first: 700, second: 700, runsAt: 700 },
  ])(
    'keeps the earlier of two delays ($first ms, then $second ms) and runs the key once',
    async ({ first, second, runsAt }) => {
      const handler = vi.fn((): Promise<ReconcileResult> => Promise.resolve());
      const q = queueWith(handler);
      q.start();

      q.addAfter('ns/a', first);
      q.addAfter('ns/a', second);
      await vi.advanceTimersByTimeAsync(runsAt - 1);
      expect(handler).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(1);
      expect(handler).toHaveBeenCalledTimes(1);
      await vi.advanceTimersByTimeAsync(10_000);
      expect(handler).toHaveBeenCalledTimes(1);
    },
  );

  it.each([0, -5])('adds the key at once when the delay is %i ms', (delay) => {
    const handler = vi.fn((): Promise<ReconcileResult> => Promise.resolve());
    const q = queueWith(handler);
    q.start();

    q.addAfter('ns/a', delay);

    expect(handler).toHaveBeenCalledTimes(1);
  });

  it('runs a key that is backing off at once when something adds it', async () => {
    const outcomes = ['fail', 'ok'];
    const handler = vi.fn(() =>
      outcomes.shift() === 'ok' ? Promise.resolve() : Promise.reject(new Error('transient')),
    );
    const q = queueWith(handler, { baseDelayMs: 10_000 });
    q.start();
    q.add('ns/a');
    await settle();

    q.add('ns/a');
    await settle();

    expect(handler).toHaveBeenCalledTimes(2);
  });

  it('waits for in-flight reconciles on shutdown, then resolves', async () => {
    const { h, q } = startedQueue({ workers: 2 });
    q.add('a');
    q.add('b');
    let done = false;
    const stopping = q.shutdown().then(() => {
      done = true;
    });

    await settle();
    expect(done).toBe(false);
    h.last('a').finish({ requeueAfterMs: 1_000 });
    await settle();
    expect(done).toBe(false);
    h.last('b').fail(new Error('interrupted'));
    await stopping;

    expect(done).toBe(true);
    expect(q.inFlight).toBe(0);
  });

  it('resolves shutdown at once when nothing is in flight, however often it is called', async () => {
    const q = queueWith(() => Promise.resolve());
    q.start();

    await expect(Promise.all([q.shutdown(), q.shutdown()])).resolves.toEqual([undefined, undefined]);
  });

  it('drops waiting and delayed keys on shutdown, and neither retries nor requeues after it', async () => {
    const h = controlledHandler();
    const delays: (number | undefined)[] = [];
    const depths: number[] = [];
    const q = queueWith(h.handler, {
      onError: (_k, _e, _a, delayMs) => delays.push(delayMs),
      onDepthChange: (d) => depths.push(d),
    });
    q.start();
    q.add('in-flight');
    q.add('waiting');
    q.addAfter('delayed', 1_000);

    const stopping = q.shutdown();
    q.add('late');
    q.addAfter('late', 10);
    q.add('in-flight');
    h.last('in-flight').fail(new Error('cancelled'));
    await stopping;
    await vi.advanceTimersByTimeAsync(60_000);

    expect(h.keys()).toEqual(['in-flight']);
    expect(delays).toEqual([undefined]);
    expect(q.depth).toBe(0);
    expect(depths.at(-1)).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps working when its hooks throw', async () => {
    const handler = vi.fn((key: string) =>
      key === 'bad' ? Promise.reject(new Error('boom')) : Promise.resolve(),
    );
    const q = queueWith(handler, {
      onError: () => {
        throw new Error('metrics exploded');
      },
      onDepthChange: () => {
        throw new Error('metrics exploded');
      },
    });
    q.start();
    q.add('bad');
    q.add('good');
    await vi.advanceTimersByTimeAsync(100);

    expect(handler.mock.calls.map(([k]) => k)).toEqual(['bad', 'good', 'bad']);
  });

  it.each([0, 1.5, -1])('rejects %s workers', (workers) => {
    expect(() => new WorkQueue(() => Promise.resolve(), { name: 'test', workers })).toThrow(RangeError);
  });
});
