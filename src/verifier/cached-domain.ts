// What a verifier-only process keeps of each ScimDomain: the fields the token index
// (token-index.ts) and the per-domain metrics (observability/metrics.ts, domainSamples) read, and
// nothing else — no condition messages, no rotation history, no delivery status. With 10,000
// domains that is most of the verifier's memory (docs/benchmarks.md, "Cost curve").
//
// Only where the verifier runs alone: in one process with the controllers the cache is shared and
// the controllers need every field.
import type { ScimDomain, ScimDomainStatus } from '../api/types.js';
import { ConditionType } from '../api/types.js';

function pick<T extends object, K extends keyof T>(
  o: T | undefined,
  keys: readonly K[],
): Pick<T, K> | undefined {
  if (o === undefined || o === null) return undefined;
  const out = {} as Pick<T, K>;
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** The ScimDomain as the verifier reads it. May modify and return its argument (a parsed object). */
export function verifierView(d: ScimDomain): ScimDomain {
  const status: ScimDomainStatus | undefined = d.status
    ? ({
        ...(d.status.token ? { token: pick(d.status.token, ['id', 'sha256', 'issuedAt'] as const)! } : {}),
        ...(d.status.previousToken
          ? { previousToken: pick(d.status.previousToken, ['id', 'sha256', 'expiresAt'] as const)! }
          : {}),
        ...(d.status.revokedTokens
          ? { revokedTokens: d.status.revokedTokens.map((r) => pick(r, ['fingerprint'] as const)!) }
          : {}),
        ...(d.status.conditions
          ? {
              conditions: d.status.conditions
                .filter((c) => c.type === ConditionType.Ready)
                .map((c) => pick(c, ['type', 'status', 'observedGeneration'] as const)!),
            }
          : {}),
      } as ScimDomainStatus)
    : undefined;
  return {
    apiVersion: d.apiVersion,
    kind: d.kind,
    metadata: pick(d.metadata, [
      'name',
      'namespace',
      'generation',
      'resourceVersion',
      'deletionTimestamp',
    ] as const)!,
    spec: pick(d.spec, [
      'domain',
      'identityProvider',
      'sendEmailInvitations',
      'suspend',
      'maxTokenAge',
    ] as const)!,
    ...(status ? { status } : {}),
  };
}
