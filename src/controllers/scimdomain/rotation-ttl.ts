// Deletes completed one-shot ScimTokenRotations whose spec.ttlSecondsAfterFinished is over (the
// decision is src/rules/rotation/ttl.ts). Runs only from a reconcile that has nothing else to write,
// under the domain's key like every other write for it. Each delete is conditional on the UID and
// resourceVersion it was decided on, so a re-created or edited object is never deleted by mistake.
import type { Logger } from 'pino';
import { GROUP, ROTATION_PLURAL, VERSION, type ScimTokenRotation } from '../../api/types.js';
import { rotationTtl } from '../../rules/rotation/ttl.js';
import { isConflict, isNotFound } from '../../kube/errors.js';
import type { CustomObjectsApi } from '../../kube/apis.js';

/** Deletes the expired rotations; returns when to look again for the others, if any wait. */
export async function deleteExpiredRotations(
  custom: CustomObjectsApi,
  rotations: readonly ScimTokenRotation[],
  now: Date,
  log: Logger,
): Promise<number | undefined> {
  let next: number | undefined;
  for (const r of rotations) {
    const d = rotationTtl(r, now);
    if (d.kind === 'wait') next = Math.min(next ?? Infinity, Math.ceil(d.afterMs));
    if (d.kind !== 'delete') continue;
    try {
      await custom.deleteNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: r.metadata.namespace,
        plural: ROTATION_PLURAL,
        name: r.metadata.name,
        body: { preconditions: { uid: r.metadata.uid, resourceVersion: r.metadata.resourceVersion } },
      });
      log.info(
        {
          scimtokenrotation: r.metadata.name,
          finishedAt: d.finishedAt,
          ttlSeconds: r.spec.ttlSecondsAfterFinished,
        },
        'deleted a completed rotation after its ttlSecondsAfterFinished',
      );
    } catch (err) {
      // Gone already, or changed since it was read: the next reconcile decides again.
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }
  return next;
}
