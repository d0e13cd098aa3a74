// The controller process's lifecycle, and nothing else: one shared informer set (the ScimDomain
// informers every controller and, in one process, the verifier read), the controllers that each own
// their other watches, indexes, event routing and work queue (controllers/<name>/controller.ts), and
// the order in which all of it starts and stops. Watches go through kube/informer.ts, which
// re-lists and restarts with jittered backoff when a watch fails.
//
// This was built on @dot-i/k8s-operator's Operator, for its start()/init()/stop() alone (its
// watchResource() calls process.exit(1) when a watch fails, so it was never used). Importing it
// loads all of @kubernetes/client-node — 77 MB of the controller's 150 MB budget — for ten lines of
// lifecycle, which now live here (docs/design.md, "Dependencies").
import type { Logger } from 'pino';

/** What the operator needs of a watch: start it, stop it, know whether it has listed. */
export interface Startable {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly synced: boolean;
}

/** What the operator needs of a controller. */
export interface Controller {
  readonly name: string;
  /** The watches the controller owns: started before and stopped after it. */
  readonly informers: readonly Startable[];
  /** Starts writing (the work queue); idempotent. Called at once, or when leadership is acquired. */
  startReconciling(): void;
  /** Stops taking work and lets in-flight work finish. */
  shutdown(): Promise<void>;
}

export interface OperatorDeps {
  log: Logger;
  /** Reconcile at once after the caches synced (no leader election), else on startReconciling(). */
  reconcileAtStart: boolean;
  /**
   * Informers shared by several controllers (and the verifier in one process): started here,
   * stopped by whoever created them, after everything that reads them.
   */
  shared: readonly Startable[];
  controllers: readonly Controller[];
}

export class ScimTokenOperator {
  private started = false;

  constructor(private readonly deps: OperatorDeps) {}

  private get allInformers(): Startable[] {
    return [...this.deps.shared, ...this.deps.controllers.flatMap((c) => c.informers)];
  }

  /** True once every informer has listed at least once. */
  get ready(): boolean {
    return this.started && this.allInformers.every((i) => i.synced);
  }

  /**
   * Starts the caches on every replica (readiness does not wait for leadership); the controllers
   * start here too unless leader election is on, in which case the elector calls startReconciling()
   * once this process holds the Lease.
   */
  async start(): Promise<void> {
    await Promise.all(this.allInformers.map((i) => i.start()));
    this.started = true;
    if (this.deps.reconcileAtStart) this.startReconciling();
    else this.deps.log.info('caches synced; waiting for leadership before reconciling');
  }

  /** From here on this process writes. Idempotent. */
  startReconciling(): void {
    for (const c of this.deps.controllers) c.startReconciling();
  }

  /** Stops taking work, lets in-flight reconciles finish, closes the watches the controllers own. */
  async shutdown(): Promise<void> {
    await Promise.all(this.deps.controllers.map((c) => c.shutdown()));
    await Promise.all(this.deps.controllers.flatMap((c) => c.informers.map((i) => i.stop())));
  }
}
