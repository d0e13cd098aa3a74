// The ScimDomain controller's delivery step (SPEC §2.7), run only when the domain is steady (its
// plan and its rotations wrote nothing): decide (pure, rules/delivery/plan.ts), then read the
// credentials Secret live and call the identity provider (delivery/entra.ts), then return the
// status write and Events that record the outcome, for the reconciler's one apply loop.
import type { Logger } from 'pino';
import { SECRET_TYPE } from '../../api/types.js';
import { clean, type Deliverer } from '../../delivery/entra.js';
import {
  planDelivery,
  recordDelivery,
  type DeliveryOutcome,
  type DeliveryRequest,
  type DeliveryState,
} from '../../rules/delivery/plan.js';
import type { Action } from '../../rules/scimdomain/plan.js';
import { describeError, isNotFound } from '../../kube/errors.js';
import { readSecret } from './gather.js';
import type { CoreApi } from '../../kube/apis.js';

export interface DeliveryDeps {
  core: CoreApi;
  deliverer: Deliverer;
  /** Counts each finished attempt (scim_deliveries_total). */
  onDelivery?: (result: 'success' | 'failure') => void;
  log: Logger;
}

export interface DeliveryStep {
  actions: Action[];
  outcome: string;
  requeueAfterMs?: number;
}

export async function deliverIfDue(
  deps: DeliveryDeps,
  state: DeliveryState,
  namespace: string,
  now: () => Date,
): Promise<DeliveryStep> {
  const decision = planDelivery(state, now());
  switch (decision.kind) {
    case 'none':
      return {
        actions: [],
        outcome: decision.why,
        ...(decision.requeueAfterMs !== undefined ? { requeueAfterMs: decision.requeueAfterMs } : {}),
      };
    case 'write':
      return { actions: decision.actions, outcome: decision.why };
    case 'deliver': {
      const outcome = await attempt(deps, decision.request, namespace);
      deps.onDelivery?.(outcome.ok ? 'success' : 'failure');
      const recorded = recordDelivery(state.domain, decision.request, outcome, now());
      deps.log.info(
        {
          fingerprint: decision.request.fingerprint,
          servicePrincipal: decision.request.servicePrincipalId,
          result: outcome.ok ? 'success' : 'failure',
          ...(outcome.ok ? {} : { error: outcome.message }),
        },
        'token delivery attempted',
      );
      return { ...recorded, outcome: outcome.ok ? 'delivered' : 'delivery-failed' };
    }
    default: {
      const never: never = decision;
      throw new Error(`unknown delivery decision ${JSON.stringify(never)}`);
    }
  }
}

async function attempt(deps: DeliveryDeps, r: DeliveryRequest, namespace: string): Promise<DeliveryOutcome> {
  const ref = `Secret ${namespace}/${r.credentials.secretName} (delivery.entraID.credentialsSecretRef)`;
  let credentials;
  try {
    // Live: the operator caches only its own token Secrets, and credentials change out of its sight.
    credentials = await readSecret(deps.core, namespace, r.credentials.secretName);
  } catch (err) {
    if (isNotFound(err)) credentials = undefined;
    else return { ok: false, message: `could not read ${ref}: ${clean(describeError(err), [])}` };
  }
  if (!credentials) return { ok: false, message: `${ref} does not exist` };
  // A token Secret holds a SCIM token, never an app registration's credentials: sending one of those
  // to a login endpoint as a client secret is not something to do on a spec's say-so.
  if (credentials.type === SECRET_TYPE)
    return { ok: false, message: `${ref} is a SCIM token Secret, not client credentials` };
  const clientId = credentials.data[r.credentials.clientIdKey]?.trim();
  const clientSecret = credentials.data[r.credentials.clientSecretKey]?.trim();
  const missing = [
    ...(clientId ? [] : [r.credentials.clientIdKey]),
    ...(clientSecret ? [] : [r.credentials.clientSecretKey]),
  ];
  if (missing.length > 0 || !clientId || !clientSecret)
    return { ok: false, message: `${ref} has no ${missing.map((k) => `"${k}"`).join(' or ')} key` };
  const outcome = await deps.deliverer.deliverEntra({
    cloud: r.cloud,
    tenantId: r.tenantId,
    servicePrincipalId: r.servicePrincipalId,
    clientId,
    clientSecret,
    baseAddress: r.baseAddress,
    token: r.token,
  });
  // Belt and braces: whatever the client said, no secret leaves in it.
  return outcome.ok ? outcome : { ...outcome, message: clean(outcome.message, [r.token, clientSecret]) };
}
