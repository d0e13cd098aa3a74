// The fault-injection control plane: a local control plane of the fault tests' own, never the shared
// one in .cluster/ (other test files run against that one in parallel and must not see it restarted).
// Each run gets its own, in .cluster-faults/<run id>/ (or SCIM_FAULT_CLUSTER_DIR), so two runs on one
// machine do not stop each other's.
//
// Its kube-apiserver runs with short watches, no watch cache and frequent etcd compaction, so that a
// watch resumed from an old resourceVersion is answered 410 Gone within seconds (watch-expiry test).
// It is started by the first fault test file that needs it — not in globalSetup, which vitest runs
// for every project at the start of `vitest run`, while the integration tests use both cores — and
// the faults project's globalSetup stops it at the end.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { inject } from 'vitest';
import { ROOT } from '../../integration/support/kube.js';

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

/** Where a run's fault plane lives. */
export function faultClusterDir(runId: string): string {
  return process.env.SCIM_FAULT_CLUSTER_DIR ?? path.join(ROOT, '.cluster-faults', runId);
}

export type PlaneProcess = 'etcd' | 'kube-apiserver';

export class FaultPlane {
  constructor(readonly dir: string) {}

  get kubeconfig(): string {
    return path.join(this.dir, 'kubeconfig');
  }

  private env(): NodeJS.ProcessEnv {
    return { ...process.env, SCIM_CLUSTER_DIR: this.dir, SCIM_APISERVER_EXTRA_ARGS: FAULT_APISERVER_ARGS };
  }

  private run(args: string[], quiet = false): { status: number; output: string } {
    const r = spawnSync('bash', [CLUSTER_SH, ...args], {
      env: this.env(),
      encoding: 'utf8',
      timeout: 5 * 60_000,
    });
    const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    if (!quiet) process.stderr.write(output);
    return { status: r.status ?? 1, output };
  }

  running(): boolean {
    return this.run(['status'], true).status === 0;
  }

  /** Starts the plane, or reuses it when it runs already; installs crds/ either way. */
  ensure(): string {
    const r = this.run(['up']);
    if (r.status !== 0) throw new Error(`the fault control plane did not start:\n${r.output.slice(-3000)}`);
    return this.kubeconfig;
  }

  stop(): void {
    this.run(['down']);
  }

  /**
   * `cluster.sh stop|start|restart <process>` (same ports and data); resolves once cluster.sh is done
   * (it waits for readiness). Asynchronous so the test's own loops keep running meanwhile.
   */
  process(action: 'stop' | 'start' | 'restart', what: PlaneProcess): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn('bash', [CLUSTER_SH, action, what], {
        env: this.env(),
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
}

/** In a test file: this run's fault plane. */
export function faultPlane(): FaultPlane {
  return new FaultPlane(inject('faultClusterDir'));
}

/** In a test file: stop, start or restart a process of this run's fault plane. */
export function planeProcess(action: 'stop' | 'start' | 'restart', what: PlaneProcess): Promise<void> {
  return faultPlane().process(action, what);
}
