// ScimDomain objects for unit tests, as the API server would hand them over: one builder with the
// defaults every test shares (apiVersion, kind, a name and namespace, generation 1), and the status
// parts tests assemble (a Ready condition, a token status made from a plaintext token). A test states
// only what its case is about. Pure; nothing in the operator imports it.

import type {
  Condition,
  RevokedToken,
  ScimDomain,
  ScimDomainSpec,
  ScimDomainStatus,
  TokenStatus,
} from '../../src/api/types.js';
import { API_VERSION, DOMAIN_KIND } from '../../src/api/types.js';
import { tokenFingerprint, tokenSha256 } from '../../src/rules/token.js';

/** The time the builders stamp when a test does not care which. */
export const FIXED_TIME = '2026-01-01T00:00:00Z';

export interface ScimDomainParts {
  metadata?: Partial<ScimDomain['metadata']>;
  /** Merged over `{ domain: '<name>.example' }`. */
  spec?: Partial<ScimDomainSpec>;
  /** Taken as it is; no status when left out. */
  status?: ScimDomainStatus;
}

export function scimDomain(parts: ScimDomainParts = {}): ScimDomain {
  const name = parts.metadata?.name ?? 'contoso';
  return {
    apiVersion: API_VERSION,
    kind: DOMAIN_KIND,
    metadata: { name, namespace: 'ns', generation: 1, ...parts.metadata },
    spec: { domain: `${name}.example`, ...parts.spec },
    ...(parts.status ? { status: parts.status } : {}),
  };
}

/** `Ready=True TokenIssued` for generation 1, unless `over` says otherwise. */
export function readyCondition(over: Partial<Condition> = {}): Condition {
  return {
    type: 'Ready',
    status: 'True',
    reason: 'TokenIssued',
    message: '',
    lastTransitionTime: FIXED_TIME,
    observedGeneration: 1,
    ...over,
  };
}

/** `status.token` for a plaintext token: only its fingerprint and hash land in status. */
export function tokenStatusOf(
  token: string,
  over: Partial<Omit<TokenStatus, 'fingerprint' | 'sha256'>> = {},
) {
  return {
    id: 'tok-current000',
    fingerprint: tokenFingerprint(token),
    sha256: tokenSha256(token),
    issuedAt: FIXED_TIME,
    generation: 1,
    ...over,
  } satisfies TokenStatus;
}

/** An entry of `status.revokedTokens` for a plaintext token: only its fingerprint lands in status. */
export function revokedTokenOf(
  token: string,
  over: Partial<Omit<RevokedToken, 'fingerprint'>> = {},
): RevokedToken {
  return {
    id: 'tok-revoked0',
    fingerprint: tokenFingerprint(token),
    revokedAt: FIXED_TIME,
    reason: 'Rotated',
    ...over,
  };
}
