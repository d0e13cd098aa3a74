// ScimDomain objects as the verifier sees them, built from plaintext tokens (on ./builders.ts), for
// the verifier's unit and property tests and for the benchmark that indexes 10,000 domains
// in-process. Pure; nothing in the operator imports it.

import type { IdentityProvider, ScimDomain } from '../../src/api/types.js';
import { readyCondition, revokedTokenOf, scimDomain, tokenStatusOf } from './builders.js';

export interface DomainFixture {
  name: string;
  namespace?: string;
  domain?: string;
  /** The current token (plaintext; only its hash lands in status). */
  token?: string;
  tokenId?: string;
  /** Ready condition status; default True. */
  ready?: 'True' | 'False' | 'Unknown' | 'absent';
  suspend?: boolean;
  deleting?: boolean;
  /** Earlier tokens listed in `status.revokedTokens` (plaintext; only fingerprints land in status). */
  revoked?: readonly string[];
  sendEmailInvitations?: boolean;
  identityProvider?: IdentityProvider;
  resourceVersion?: string;
  /** metadata.generation; Ready records generation 1. Default 1. */
  generation?: number;
}

export function scimDomainFixture(f: DomainFixture): ScimDomain {
  const namespace = f.namespace ?? 'ns';
  const ready = f.ready ?? 'True';
  return scimDomain({
    metadata: {
      name: f.name,
      namespace,
      uid: `uid-${namespace}-${f.name}`,
      generation: f.generation ?? 1,
      resourceVersion: f.resourceVersion ?? '1',
      ...(f.deleting ? { deletionTimestamp: new Date(0), finalizers: ['example.com/hold'] } : {}),
    },
    spec: {
      domain: f.domain ?? `${f.name}.example.com`,
      ...(f.identityProvider ? { identityProvider: f.identityProvider } : {}),
      ...(f.sendEmailInvitations !== undefined ? { sendEmailInvitations: f.sendEmailInvitations } : {}),
      ...(f.suspend !== undefined ? { suspend: f.suspend } : {}),
    },
    status: {
      observedGeneration: 1,
      conditions:
        ready === 'absent'
          ? []
          : [readyCondition({ status: ready, reason: ready === 'True' ? 'TokenIssued' : 'Issuing' })],
      ...(f.token !== undefined
        ? { token: tokenStatusOf(f.token, { id: f.tokenId ?? `tok-${f.name.slice(0, 10).padEnd(10, '0')}` }) }
        : {}),
      ...(f.revoked
        ? {
            revokedTokens: f.revoked.map((t, i) => revokedTokenOf(t, { id: `tok-revoked${i}` })),
          }
        : {}),
    },
  });
}
