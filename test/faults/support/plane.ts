// The fault-injection control plane: a second local control plane, separate from the shared one in
// .cluster/ (other test files run against that one in parallel and must never see it restarted).
//
// It runs kube-apiserver with short watches, no watch cache and frequent etcd compaction, so that a
// watch resumed from an old resourceVersion is answered 410 Gone within seconds (watch-expiry test),
// and it is started lazily by the first fault test file that needs it — not in globalSetup, which
// vitest runs for every project at the start of `vitest run`, while the integration tests are using
// both cores. The faults project's globalSetup stops it at the end of the run.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../../integration/support/kube.js';

export const FAULT_CLUSTER_DIR = process.env.SCIM_FAULT_CLUSTER_DIR ?? path.join(ROOT, '.cluster-faults');
export const FAULT_KUBECONFIG = path.join(FAULT_CLUSTER_DIR, 'kubeconfig');

/**
 * kube-apiserver flags of the fault plane:
 * - watches end after 5–10 s (`--min-request-timeout`), so every informer resumes often;
 * - `--watch-cache=false`: a resumed watch goes to etcd, which answers 410 once its revision is
 *   compacted, instead of being served from the watch cache's history window;
 * - etcd is compacted every 5 s.
 */
export const FAULT_APISERVER_ARGS =
  '--watch-cache=false --etcd-compaction-interval=5s --min-request-timeout=5';

const CLUSTER_SH = path.join(ROOT, 'test/controlplane/cluster.sh');

const env = (): NodeJS.ProcessEnv => ({
  ...process.env,
  SCIM_CLUSTER_DIR: FAULT_CLUSTER_DIR,
  SCIM_APISERVER_EXTRA_ARGS: FAULT_APISERVER_ARGS,
});

function cluster(args: string[], quiet = false): { status: number; output: string } {
  const r = spawnSync('bash', [CLUSTER_SH, ...args], {
    env: env(),
    encoding: 'utf8',
    timeout: 5 * 60_000,
  });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (!quiet) process.stderr.write(output);
  return { status: r.status ?? 1, output };
}

export function faultPlaneRunning(): boolean {
  return cluster(['status'], true).status === 0;
}

/** Starts the fault plane, or reuses it when it runs already; installs crds/ either way. */
export function ensureFaultPlane(): string {
  const r = cluster(['up']);
  if (r.status !== 0) throw new Error(`the fault control plane did not start:\n${r.output.slice(-3000)}`);
  return FAULT_KUBECONFIG;
}

export function stopFaultPlane(): void {
  cluster(['down']);
}

export type PlaneProcess = 'etcd' | 'kube-apiserver';

/**
 * `cluster.sh stop|start|restart <process>` on the fault plane (same ports and data); resolves once
 * cluster.sh is done (it waits for readiness). Asynchronous so the test's own loops keep running.
 */
export function planeProcess(action: 'stop' | 'start' | 'restart', what: PlaneProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [CLUSTER_SH, action, what], {
      env: env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`cluster.sh ${action} ${what} exited ${code}:\n${out.slice(-3000)}`)),
    );
  });
}
