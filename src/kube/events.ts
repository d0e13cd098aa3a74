// Kubernetes Events (core/v1) about our objects. Messages are built by the planners from ids and
// fingerprints only; recording is best effort — a failed Event never fails a reconcile.
import { randomBytes } from 'node:crypto';
import type { CoreV1Api, CoreV1Event } from '@kubernetes/client-node';
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

export class EventRecorder {
  constructor(
    private readonly core: CoreV1Api,
    private readonly log: Logger,
    private readonly now: () => Date,
    private readonly instance = process.pid.toString(),
  ) {}

  async record(
    obj: InvolvedObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): Promise<void> {
    const t = this.now();
    const body: CoreV1Event = {
      metadata: { name: `${obj.name}.${randomBytes(8).toString('hex')}`, namespace: obj.namespace },
      involvedObject: { ...obj },
      type,
      reason,
      message,
      source: { component: COMPONENT },
      reportingComponent: COMPONENT,
      reportingInstance: `${COMPONENT}-${this.instance}`,
      action: reason,
      firstTimestamp: t,
      lastTimestamp: t,
      count: 1,
    };
    try {
      await this.core.createNamespacedEvent({ namespace: obj.namespace, body });
    } catch (err) {
      this.log.warn(
        { reason, object: `${obj.namespace}/${obj.name}`, code: (err as { code?: number }).code },
        'could not record event',
      );
    }
  }
}
