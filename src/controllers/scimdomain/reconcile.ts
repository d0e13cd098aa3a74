// The ScimDomain controller's reconcile: gather -> plan (pure: the policy chains of
// src/rules/scimdomain/policies.ts and src/rules/rotation/policies.ts) -> apply.
// Every write carries the resourceVersion it was planned from; a conflict means re-read and
// re-plan (SPEC §2.6), never a blind retry.
import type { V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import {
  API_VERSION,
  DOMAIN_KIND,
  DOMAIN_PLURAL,
  ROTATION_KIND,
  ROTATION_PLURAL,
  type ScimTokenRotation,
  GROUP,
  SECRET_TYPE,
  VERSION,
  type ScimDomain,
  type ScimDomainStatus,
} from '../../api/types.js';
import { namespacedKey, splitObjectKey } from '../../api/object-key.js';
import { planDomain } from '../../rules/scimdomain/policies.js';
import {
  carriedOverAnnotations,
  statusUnchanged,
  type Action,
  type GenerationHistory,
  type NewToken,
  type SecretView,
} from '../../rules/scimdomain/plan.js';
import type { TokenSealer } from '../../rules/token-seal.js';
import { redactTokens } from '../../observability/logger.js';
import { planRotations } from '../../rules/rotation/plan.js';
import type { RotationAction } from '../../rules/rotation/policies.js';
import { withTokenAge } from '../../rules/token-age.js';
import { describeError, isConflict, isNotFound } from '../../kube/errors.js';
import { hasApiError, withApiError, withoutApiError } from '../../rules/scimdomain/api-error.js';
import type { EventRecorder } from '../../kube/events.js';
import type { Expectations } from '../../kube/expectations.js';
import type { ReconcileResult } from '../../kube/work-queue.js';
import { gatherDomain, secretNames, type DomainCache, type SecretCache } from './gather.js';
import { deleteExpiredRotations } from './rotation-ttl.js';
import { deliverIfDue } from './deliver.js';
import type { Deliverer } from '../../delivery/entra.js';
import type { CoreApi, CustomObjectsApi } from '../../kube/apis.js';

export const CONTROLLER_NAME = 'scimdomain';

export interface RotationCache {
  /** Every cached ScimTokenRotation whose spec.domainRef names this domain. */
  forDomain(namespace: string, domainName: string): ScimTokenRotation[];
}

/**
 * Come back this soon while our own last write has not reached the informer cache yet
 * (expectations): a watch event usually arrives within a few milliseconds, so a quarter second
 * rarely waits twice, and planning earlier would only plan from the stale cache again.
 */
const AWAIT_OWN_WRITE_MS = 250;

/**
 * Re-read and re-plan this soon after a write conflicted or its object vanished: someone else wrote
 * first, which the cache shows almost at once; not 0, so that the watch event can land before the
 * re-plan, and not a backoff, because a conflict is no failure.
 */
const REPLAN_AFTER_CONFLICT_MS = 100;

/** Come back at once: more is due in this key (a reported API error to clear, rotations to run). */
const AT_ONCE = 0;

/** At most this much of an API error's text goes into a condition message. */
const CONDITION_ERROR_MAX = 512;

/**
 * An API error as a condition or log may show it: the Status message only (never a body), with
 * anything token-shaped redacted (a policy or webhook may quote a request's data back) and cut short.
 */
export function errorText(err: unknown): string {
  const text = redactTokens(describeError(err));
  return text.length > CONDITION_ERROR_MAX ? `${text.slice(0, CONDITION_ERROR_MAX)}…` : text;
}

/** A refused Secret write, with the status that revokes regardless (Action.ifRefused). */
class SecretWriteRefused extends Error {
  constructor(
    readonly original: unknown,
    readonly ifRefused: ScimDomainStatus,
  ) {
    super(errorText(original));
  }
}

export interface DomainReconcilerDeps {
  core: CoreApi;
  custom: CustomObjectsApi;
  cache: DomainCache;
  /** Our labelled Secrets; absent: every reconcile reads its Secrets live. */
  secrets?: SecretCache;
  /** Keys whose next reconcile reads Secrets live (after a write was refused). */
  liveSecretReads: Set<string>;
  rotations: RotationCache;
  /** SPEC §2.2's wait for a rotation's domain (5 minutes; shortened in tests). */
  rotationGraceMs: number;
  onRotation?: (trigger: 'manual' | 'schedule', result: 'rotated' | 'skipped' | 'failed') => void;
  events: EventRecorder;
  expectations: Expectations;
  log: Logger;
  now: () => Date;
  issueToken: () => NewToken;
  /** Seals the tokens this operator writes, so that only those are adopted (SPEC §2.3). */
  sealer: TokenSealer;
  /** The generations of a domain ("ns/name") the watch has seen: suspensions this reconcile missed. */
  generationHistory?: (key: string) => GenerationHistory | undefined;
  /** Writes tokens to identity providers (SPEC §2.7); absent: delivery is not attempted. */
  deliverer?: Deliverer;
  onDelivery?: (result: 'success' | 'failure') => void;
  /** Test-only failpoints (SCIM_FAILPOINT), e.g. "after-secret-write" exits the process there. */
  failpoint?: (name: string) => void;
}

export async function reconcileDomain(deps: DomainReconcilerDeps, key: string): Promise<ReconcileResult> {
  const { namespace = '', name } = splitObjectKey(key);
  if (deps.expectations.waiting(key)) return { requeueAfterMs: AWAIT_OWN_WRITE_MS };
  const rotations = deps.rotations.forDomain(namespace, name);
  if (rotations.some((r) => deps.expectations.waiting(rotationExpectationKey(r))))
    return { requeueAfterMs: AWAIT_OWN_WRITE_MS };
  const cachedDomain = deps.cache.get(name, namespace);
  if (
    cachedDomain &&
    secretNames(cachedDomain).some((n) => deps.expectations.waiting(secretExpectationKey(namespace, n)))
  ) {
    return { requeueAfterMs: AWAIT_OWN_WRITE_MS };
  }
  // After a refused create the cache was wrong about a Secret: read live this once.
  const live = deps.liveSecretReads.delete(key);
  const state = await gatherDomain(deps.cache, deps.core, namespace, name, live ? undefined : deps.secrets);
  const log = deps.log.child({ scimdomain: key });
  const now = deps.now();
  let actions: RotationAction[] = [];
  let outcome = 'rotations';
  let requeueAfterMs: number | undefined;
  // spec.maxTokenAge: the TokenOverdue condition, and a visit when the token becomes overdue.
  let overdueInMs: number | undefined;
  if (state) {
    const history = deps.generationHistory?.(key);
    const domainPlan = planDomain(history ? { ...state, suspendHistory: history } : state, {
      now: now.toISOString(),
      issue: deps.issueToken,
      sealer: deps.sealer,
    });
    const plan = withTokenAge(domainPlan, state.domain, now);
    actions = plan.actions;
    outcome = plan.outcome;
    requeueAfterMs = domainPlan.requeueAfterMs;
    overdueInMs = plan.requeueAfterMs;
    // Rotations wait until the domain is steady: its own plan has nothing left to write.
    if (actions.length > 0 && rotations.length > 0) requeueAfterMs = AT_ONCE;
  }
  if (actions.length === 0 && rotations.length > 0) {
    const plan = planRotations(
      {
        ...(state ? { domain: state.domain } : {}),
        ...(state?.secret ? { secret: state.secret } : {}),
        rotations,
      },
      { now, graceMs: deps.rotationGraceMs, issue: deps.issueToken, sealer: deps.sealer },
    );
    actions = plan.actions;
    requeueAfterMs = earliest(requeueAfterMs, plan.requeueAfterMs);
  }
  if (overdueInMs !== undefined) requeueAfterMs = Math.min(requeueAfterMs ?? overdueInMs, overdueInMs);
  if (actions.length === 0 && state && deps.deliverer) {
    // Steady: the current token may still have to reach the identity provider (SPEC §2.7).
    const { deliverer, onDelivery } = deps;
    const step = await deliverIfDue(
      { core: deps.core, deliverer, onDelivery, log },
      state,
      namespace,
      deps.now,
    );
    actions = step.actions;
    if (actions.length > 0) outcome = step.outcome;
    requeueAfterMs = earliest(requeueAfterMs, step.requeueAfterMs);
  }
  const reportedApiError = state !== undefined && hasApiError(state.domain);
  if (actions.length === 0) {
    // Steady: completed one-shot rotations whose opt-in time-to-live is over go.
    const ttlNext = await deleteExpiredRotations(deps.custom, rotations, now, log);
    if (ttlNext !== undefined) requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, ttlNext);
    if (reportedApiError) {
      // Nothing left to write: whatever was refused went through since. Clear the report.
      try {
        await clearApiError(deps, state.domain);
      } catch (err) {
        if (isConflict(err) || isNotFound(err)) return { requeueAfterMs: REPLAN_AFTER_CONFLICT_MS };
        throw err;
      }
      log.info({ outcome }, 'writes go through again');
      return requeueAfterMs !== undefined ? { requeueAfterMs } : undefined;
    }
    log.debug({ outcome }, 'nothing to do');
    return requeueAfterMs !== undefined ? { requeueAfterMs } : undefined;
  }
  // A reported API error is cleared by the reconcile that finds nothing left to write: come back.
  if (reportedApiError) requeueAfterMs = AT_ONCE;
  try {
    await applyActions(deps, namespace, state?.domain, [state?.secret, state?.previousSecret], actions, log);
  } catch (thrown) {
    // A conflict or a vanished Secret on a plan made from the cache is most likely the cache lagging
    // behind: re-read live and re-plan first. Refused again on a live read (a racing writer), or
    // refused for any other reason (immutable, quota, admission), the revocation happens now.
    const staleRead =
      thrown instanceof SecretWriteRefused &&
      !live &&
      (isConflict(thrown.original) || isNotFound(thrown.original));
    if (thrown instanceof SecretWriteRefused && state && !staleRead) {
      // The work queue retries the delivery with backoff.
      deps.liveSecretReads.add(key);
      log.warn({ outcome, error: thrown.message }, 'Secret write refused; revoking without it');
      await reportApiError(deps, state.domain, thrown.original, now, log, thrown.ifRefused);
      throw thrown.original;
    }
    const err = thrown instanceof SecretWriteRefused ? thrown.original : thrown;
    if (isConflict(err) || isNotFound(err)) {
      // Someone else changed the domain, a rotation or the Secret since we read it: re-read, re-plan.
      deps.liveSecretReads.add(key);
      log.debug({ outcome, code: (err as { code?: number }).code }, 'write conflicted; re-planning');
      return { requeueAfterMs: REPLAN_AFTER_CONFLICT_MS };
    }
    if (state) await reportApiError(deps, state.domain, err, now, log);
    throw err;
  }
  log.info({ outcome }, 'reconciled');
  return requeueAfterMs !== undefined ? { requeueAfterMs } : undefined;
}

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

async function clearApiError(deps: DomainReconcilerDeps, d: ScimDomain): Promise<void> {
  await writeDomainStatus(deps, d, withoutApiError(d.status));
}

/** Replaces the status of `d` if it is still at the resourceVersion it was read at; returns what was written. */
async function writeDomainStatus(
  deps: DomainReconcilerDeps,
  d: ScimDomain,
  status: ScimDomainStatus,
): Promise<ScimDomain> {
  return (await deps.custom.replaceNamespacedCustomObjectStatus({
    group: GROUP,
    version: VERSION,
    namespace: d.metadata.namespace,
    plural: DOMAIN_PLURAL,
    name: d.metadata.name,
    body: {
      apiVersion: API_VERSION,
      kind: DOMAIN_KIND,
      metadata: {
        name: d.metadata.name,
        namespace: d.metadata.namespace,
        resourceVersion: d.metadata.resourceVersion,
      },
      status,
    },
  })) as ScimDomain;
}

/**
 * Makes a failing write visible on the domain (the ApiError report, rules/scimdomain/api-error.ts)
 * while the work queue retries with backoff. Best effort: the retry is what matters.
 */
async function reportApiError(
  deps: DomainReconcilerDeps,
  d: ScimDomain,
  err: unknown,
  now: Date,
  log: Logger,
  base?: ScimDomainStatus,
) {
  const status = withApiError(d, errorText(err), now.toISOString(), base);
  if (statusUnchanged(d.status, status)) return;
  try {
    await writeDomainStatus(deps, d, status);
  } catch (statusErr) {
    log.debug({ error: errorText(statusErr) }, 'could not record the API error on the domain');
  }
}

function expectSecret(deps: DomainReconcilerDeps, namespace: string, written: V1Secret): void {
  const rv = written.metadata?.resourceVersion;
  if (deps.secrets && rv && written.metadata?.name) {
    deps.expectations.expect(secretExpectationKey(namespace, written.metadata.name), rv);
  }
}

export function secretExpectationKey(namespace: string, name: string): string {
  return `secret:${namespacedKey(namespace, name)}`;
}

export function rotationExpectationKey(r: { metadata: { namespace?: string; name?: string } }): string {
  return `rotation:${r.metadata.namespace ?? ''}/${r.metadata.name ?? ''}`;
}

function secretBody(
  d: ScimDomain,
  name: string,
  content: Extract<Action, { kind: 'createSecret' }>['content'],
  existing?: SecretView,
): V1Secret {
  const annotations = { ...carriedOverAnnotations(existing?.annotations ?? {}), ...content.annotations };
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
  namespace: string,
  d: ScimDomain | undefined,
  secrets: (SecretView | undefined)[],
  actions: RotationAction[],
  log: Logger,
): Promise<void> {
  const involved = {
    apiVersion: API_VERSION,
    kind: DOMAIN_KIND,
    name: d?.metadata.name ?? '',
    namespace,
    uid: d?.metadata.uid,
  };
  const existing = (name: string) => secrets.find((s) => s?.name === name);
  const rotationVersions = new Map<string, string>();
  const domain = () => {
    if (!d) throw new Error('a domain write was planned for a domain that does not exist');
    return d;
  };
  for (const action of actions) {
    try {
      await applyAction(action);
    } catch (err) {
      if ('ifRefused' in action && action.ifRefused) throw new SecretWriteRefused(err, action.ifRefused);
      throw err;
    }
  }

  async function applyAction(action: RotationAction): Promise<void> {
    switch (action.kind) {
      case 'createSecret': {
        const created = await deps.core.createNamespacedSecret({
          namespace,
          body: secretBody(domain(), action.name, action.content),
        });
        expectSecret(deps, namespace, created);
        deps.failpoint?.('after-secret-write');
        break;
      }
      case 'replaceSecret': {
        const body = secretBody(domain(), action.name, action.content, existing(action.name));
        body.metadata!.resourceVersion = action.resourceVersion;
        expectSecret(
          deps,
          namespace,
          await deps.core.replaceNamespacedSecret({ namespace, name: action.name, body }),
        );
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
        const dom = domain();
        const written = await writeDomainStatus(deps, dom, action.status);
        const rv = written.metadata?.resourceVersion;
        if (rv) deps.expectations.expect(namespacedKey(namespace, dom.metadata.name), rv);
        break;
      }
      case 'writeRotationStatus': {
        // A rotation written twice in one batch (intent, then final): the second write carries the
        // resourceVersion the first one returned.
        const resourceVersion = rotationVersions.get(action.name) ?? action.resourceVersion;
        const written = (await deps.custom.replaceNamespacedCustomObjectStatus({
          group: GROUP,
          version: VERSION,
          namespace,
          plural: ROTATION_PLURAL,
          name: action.name,
          body: {
            apiVersion: API_VERSION,
            kind: ROTATION_KIND,
            metadata: { name: action.name, namespace, resourceVersion },
            status: action.status,
          },
        })) as ScimTokenRotation;
        const rv = written.metadata?.resourceVersion;
        if (rv) {
          rotationVersions.set(action.name, rv);
          deps.expectations.expect(
            rotationExpectationKey({ metadata: { namespace, name: action.name } }),
            rv,
          );
        }
        break;
      }
      case 'rotationEvent':
        log.info({ event: action.reason, scimtokenrotation: `${namespace}/${action.name}` }, action.message);
        deps.events.record(
          { apiVersion: API_VERSION, kind: ROTATION_KIND, name: action.name, namespace, uid: action.uid },
          action.type,
          action.reason,
          action.message,
        );
        break;
      case 'metric':
        deps.onRotation?.(action.trigger, action.result);
        break;
      case 'event':
        log.info({ event: action.reason }, action.message);
        deps.events.record(involved, action.type, action.reason, action.message);
        break;
      default: {
        const never: never = action;
        throw new Error(`unknown action ${JSON.stringify(never)}`);
      }
    }
  }
}
