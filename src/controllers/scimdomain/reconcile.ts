// The ScimDomain controller's reconcile: gather -> plan (pure, src/domain/domain-plan.ts) -> apply.
// Every write carries the resourceVersion it was planned from; a conflict means re-read and
// re-plan (SPEC §2.6), never a blind retry.
import type { CoreV1Api, CustomObjectsApi, V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import {
  API_VERSION,
  DOMAIN_KIND,
  DOMAIN_PLURAL,
  GENERATION_ANNOTATION,
  GROUP,
  REVEALED_ANNOTATION,
  ROTATION_ANNOTATION,
  ROTATION_NAME_ANNOTATION,
  SECRET_TYPE,
  VERSION,
  type ScimDomain,
  type ScimDomainStatus,
} from '../../api/types.js';
import {
  CAUSE_ANNOTATION,
  planDomain,
  type Action,
  type NewToken,
  type SecretView,
} from '../../domain/domain-plan.js';
import { isConflict, isNotFound } from '../../kube/errors.js';
import type { EventRecorder } from '../../kube/events.js';
import type { Expectations } from '../../kube/expectations.js';
import type { ReconcileResult } from '../../kube/work-queue.js';
import { gatherDomain, type DomainCache } from './gather.js';

export const CONTROLLER_NAME = 'scimdomain';

/** Annotations the operator owns on a Secret; others (added by people or tools) are preserved. */
const MANAGED_ANNOTATIONS = [
  GENERATION_ANNOTATION,
  CAUSE_ANNOTATION,
  REVEALED_ANNOTATION,
  ROTATION_ANNOTATION,
  ROTATION_NAME_ANNOTATION,
];

export interface DomainReconcilerDeps {
  core: CoreV1Api;
  custom: CustomObjectsApi;
  cache: DomainCache;
  events: EventRecorder;
  expectations: Expectations;
  log: Logger;
  now: () => Date;
  issueToken: () => NewToken;
  /** Test-only failpoints (SCIM_FAILPOINT), e.g. "after-secret-write" exits the process there. */
  failpoint?: (name: string) => void;
}

export async function reconcileDomain(deps: DomainReconcilerDeps, key: string): Promise<ReconcileResult> {
  const [namespace, name] = splitKey(key);
  if (deps.expectations.waiting(key)) return { requeueAfterMs: 250 };
  const state = await gatherDomain(deps.cache, deps.core, namespace, name);
  if (!state) return;
  const log = deps.log.child({ scimdomain: key });
  const plan = planDomain(state, { now: deps.now().toISOString(), issue: deps.issueToken });
  if (plan.actions.length === 0) {
    log.debug({ outcome: plan.outcome }, 'nothing to do');
    return;
  }
  try {
    await applyActions(deps, state.domain, [state.secret, state.previousSecret], plan.actions, log);
  } catch (err) {
    if (isConflict(err) || isNotFound(err)) {
      // Someone else changed the domain or its Secret since we read it: re-read, re-plan.
      log.debug(
        { outcome: plan.outcome, code: (err as { code?: number }).code },
        'write conflicted; re-planning',
      );
      return { requeueAfterMs: 100 };
    }
    throw err;
  }
  log.info({ outcome: plan.outcome }, 'reconciled');
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

function secretBody(
  d: ScimDomain,
  name: string,
  content: Extract<Action, { kind: 'createSecret' }>['content'],
  existing?: SecretView,
): V1Secret {
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(existing?.annotations ?? {}))
    if (!MANAGED_ANNOTATIONS.includes(k)) annotations[k] = v;
  Object.assign(annotations, content.annotations);
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(content.data)) data[k] = Buffer.from(v, 'utf8').toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: SECRET_TYPE,
    metadata: {
      name,
      namespace: d.metadata.namespace,
      labels: { ...(existing?.labels ?? {}), ...content.labels },
      annotations,
      ...(existing ? { resourceVersion: existing.resourceVersion } : {}),
      ownerReferences: [
        {
          apiVersion: API_VERSION,
          kind: DOMAIN_KIND,
          name: d.metadata.name,
          uid: d.metadata.uid ?? '',
          controller: true,
        },
      ],
    },
    data,
  };
}

async function applyActions(
  deps: DomainReconcilerDeps,
  d: ScimDomain,
  secrets: (SecretView | undefined)[],
  actions: Action[],
  log: Logger,
): Promise<void> {
  const namespace = d.metadata.namespace;
  const involved = {
    apiVersion: API_VERSION,
    kind: DOMAIN_KIND,
    name: d.metadata.name,
    namespace,
    uid: d.metadata.uid,
  };
  const existing = (name: string) => secrets.find((s) => s?.name === name);
  for (const action of actions) {
    switch (action.kind) {
      case 'createSecret':
        await deps.core.createNamespacedSecret({
          namespace,
          body: secretBody(d, action.name, action.content),
        });
        deps.failpoint?.('after-secret-write');
        break;
      case 'replaceSecret': {
        const body = secretBody(d, action.name, action.content, existing(action.name));
        body.metadata!.resourceVersion = action.resourceVersion;
        await deps.core.replaceNamespacedSecret({ namespace, name: action.name, body });
        deps.failpoint?.('after-secret-write');
        break;
      }
      case 'deleteSecret':
        try {
          await deps.core.deleteNamespacedSecret({
            namespace,
            name: action.name,
            body: { preconditions: { uid: action.uid, resourceVersion: action.resourceVersion } },
          });
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
        break;
      case 'writeStatus': {
        const written = (await deps.custom.replaceNamespacedCustomObjectStatus({
          group: GROUP,
          version: VERSION,
          namespace,
          plural: DOMAIN_PLURAL,
          name: d.metadata.name,
          body: {
            apiVersion: API_VERSION,
            kind: DOMAIN_KIND,
            metadata: { name: d.metadata.name, namespace, resourceVersion: d.metadata.resourceVersion },
            status: action.status satisfies ScimDomainStatus,
          },
        })) as ScimDomain;
        const rv = written.metadata?.resourceVersion;
        if (rv) deps.expectations.expect(`${namespace}/${d.metadata.name}`, rv);
        involved.uid = written.metadata?.uid ?? involved.uid;
        break;
      }
      case 'event':
        log.info({ event: action.reason }, action.message);
        await deps.events.record(involved, action.type, action.reason, action.message);
        break;
      default: {
        const never: never = action;
        throw new Error(`unknown action ${JSON.stringify(never)}`);
      }
    }
  }
}
