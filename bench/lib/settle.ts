// Waiting for an operator to have nothing left to do: its work queue empty and its request counters
// still for a while (reconciles that requeue, and the no-op reconcile that follows every write, are
// part of the cost of a change).
import { performance } from 'node:perf_hooks';
import { requestsByMethod, sumOf, type BenchOperator, type Samples } from './operator.js';

const nonWatch = (s: Samples) =>
  Object.entries(requestsByMethod(s))
    .filter(([m]) => m !== 'WATCH')
    .reduce((n, [, v]) => n + v, 0);

/** Resolves with the metrics once the queue is empty and no request was sent for `quietMs`. */
export async function settled(
  op: BenchOperator,
  { quietMs = 2_000, pollMs = 500, timeoutMs = 15 * 60_000 } = {},
): Promise<{ samples: Samples; at: number }> {
  const deadline = performance.now() + timeoutMs;
  let last = -1;
  let quietSince = performance.now();
  for (;;) {
    const samples = await op.metrics();
    const requests = nonWatch(samples);
    const depth = sumOf(samples, 'scim_workqueue_depth');
    const now = performance.now();
    if (requests !== last || depth > 0) {
      last = requests;
      quietSince = now;
    } else if (now - quietSince >= quietMs) {
      return { samples, at: quietSince };
    }
    if (now > deadline) throw new Error(`the operator did not settle within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
