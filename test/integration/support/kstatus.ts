// The kstatus library itself (sigs.k8s.io/cli-utils, what Flux, kpt and cli-utils' apply use), run
// on objects read from the API server: test/kstatus/ builds a small Go program around it, cached
// outside the repository like Helm.
import os from 'node:os';
import path from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { runOk } from './chart.js';
import { ROOT } from './kube.js';

export interface KstatusResult {
  kind: string;
  name: string;
  status: 'InProgress' | 'Failed' | 'Current' | 'Terminating' | 'NotFound' | 'Unknown';
  message: string;
}

let binary: string | undefined;

/** The kstatus probe, built on first use; flock serialises concurrent builds. */
export function kstatusBinary(): string {
  if (binary) return binary;
  const lock = path.join(os.tmpdir(), 'scim-token-operator-kstatus-build.lock');
  const out = runOk('flock', [lock, 'bash', path.join(ROOT, 'test/kstatus/build.sh')], {
    timeoutMs: 10 * 60_000,
  });
  const last = out.trim().split('\n').pop();
  if (!last) throw new Error('test/kstatus/build.sh printed no path');
  return (binary = last);
}

/** kstatus's verdict on each object, in order. */
export function kstatus(objects: readonly KubernetesObject[]): KstatusResult[] {
  const input = objects.map((o) => JSON.stringify(o)).join('\n') + '\n';
  return runOk(kstatusBinary(), [], { input })
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as KstatusResult);
}
