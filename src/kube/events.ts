// Kubernetes Events (core/v1) about our objects. Messages are built by the planners from ids and
// fingerprints only; recording is best effort — a failed Event never fails a reconcile.
//
// Like client-go's event broadcaster, recording does not wait for the API server: `record` queues the
// Event and returns, and up to MAX_IN_FLIGHT are written at once. A reconcile that ends with an Event
// (most do) would otherwise spend a third of its time on it — one of three round trips when a token
// is issued — while its work queue key, and the worker, stay taken. A full queue drops the Event with
// a warning (the API server is struggling; the status says the same), and `flush` waits for what is
// queued when the operator shuts down.
import { randomBytes } from 'node:crypto';
import type { CoreV1Event } from '@kubernetes/client-node';
import type { EventsApi } from './apis.js';
import type { Logger } from 'pino';

export const COMPONENT = 'scim-token-operator';

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid?: string;
  resourceVersion?: string;
}

const MAX_IN_FLIGHT = 16;
const MAX_QUEUED = 1_000;

export class EventRecorder {
  private readonly queued: CoreV1Event[] = [];
  private inFlight = 0;
  private idle: (() => void)[] = [];
  private readonly instance: string;

  constructor(
    private readonly core: EventsApi,
    private readonly log: Logger,
    private readonly now: () => Date,
    /** The pod (or host) that reports; at most 128 characters, as the API server requires. */
    instance: string,
  ) {
    this.instance = instance.slice(0, 128);
  }

  /** Queues the Event; it is written in the background. */
  record(obj: InvolvedObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (this.queued.length >= MAX_QUEUED) {
      this.log.warn({ reason, object: `${obj.namespace}/${obj.name}` }, 'event queue full; event dropped');
      return;
    }
    const t = this.now();
    this.queued.push({
      metadata: { name: `${obj.name}.${randomBytes(8).toString('hex')}`, namespace: obj.namespace },
      involvedObject: { ...obj },
      type,
      reason,
      message,
      source: { component: COMPONENT, host: this.instance },
      reportingComponent: COMPONENT,
      reportingInstance: this.instance,
      action: reason,
      firstTimestamp: t,
      lastTimestamp: t,
      count: 1,
    });
    this.pump();
  }

  /** Resolves once every queued Event has been written or given up on, or after `timeoutMs`. */
  flush(timeoutMs = 5_000): Promise<void> {
    if (this.inFlight === 0 && this.queued.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.queued.length > 0) {
      const body = this.queued.shift()!;
      this.inFlight++;
      void this.write(body).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.inFlight === 0 && this.queued.length === 0) {
          const waiting = this.idle;
          this.idle = [];
          for (const done of waiting) done();
        }
      });
    }
  }

  private async write(body: CoreV1Event): Promise<void> {
    const namespace = body.metadata.namespace!;
    try {
      await this.core.createNamespacedEvent({ namespace, body });
    } catch (err) {
      this.log.warn(
        {
          reason: body.reason,
          object: `${namespace}/${body.involvedObject.name}`,
          code: (err as { code?: number }).code,
        },
        'could not record event',
      );
    }
  }
}
