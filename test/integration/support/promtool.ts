// promtool, Prometheus's own checker for metrics and rules, from test/prometheus/promtool.sh (fetched
// once and cached outside the repository). There is no fallback: a test that needs it fails when it
// cannot be had, it never skips.
import path from 'node:path';
import { ROOT } from './kube.js';
import { run, runOk, type RunResult } from './chart.js';

let promtoolPath: string | undefined;

export function promtoolBinary(): string {
  if (promtoolPath) return promtoolPath;
  const out = runOk('bash', [path.join(ROOT, 'test/prometheus/promtool.sh')], { timeoutMs: 10 * 60_000 });
  const last = out.trim().split('\n').pop();
  if (!last) throw new Error('test/prometheus/promtool.sh printed no path');
  return (promtoolPath = last);
}

export function promtool(args: readonly string[], input?: string): RunResult {
  return run(promtoolBinary(), args, input === undefined ? {} : { input });
}
