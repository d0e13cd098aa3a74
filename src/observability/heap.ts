// One full garbage collection once the caches are first filled. The initial list parses every
// ScimDomain (and, in the controller, every token Secret) page by page and keeps a trimmed copy of
// each: what it parsed is garbage right after, tens of megabytes at 10,000 domains, and V8 collects
// old garbage only under allocation pressure — a quiet operator would carry its start-up peak
// forever, and the chart's memory request would have to be sized on it. Collecting once, at a
// moment the process is otherwise idle, makes the steady footprint what the caches really hold
// (docs/benchmarks.md, "Cost curve"). Nothing is collected on the request path.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

/** Runs a full collection; returns the heap in use before and after (bytes) and how long it took. */
export function collectGarbage(): { beforeBytes: number; afterBytes: number; ms: number } {
  if (!collect) {
    // The gc() global exists only in contexts created after --expose-gc is set.
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  const beforeBytes = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  collect();
  return { beforeBytes, afterBytes: process.memoryUsage().heapUsed, ms: performance.now() - t0 };
}
