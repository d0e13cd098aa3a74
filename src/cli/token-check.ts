// `kubectl scim verify` without a verifier: decides what a token is from the ScimDomains the user can
// list, with the verifier's rules (SPEC §2.5, §4): valid only as the current `status.token.sha256` of
// a Ready, unsuspended domain; revoked when it is the current token of a domain that is not accepting
// it or its fingerprint is in some domain's `status.revokedTokens`; otherwise unknown.
//
// Pure: gets the token and the listed domains; hashes locally. Needs no access to Secrets. The result
// carries the fingerprint, never the token.

import type { IdentityProvider, RevokedToken, ScimDomain } from '../api/types.js';
import { checkTokenFormat, fingerprintFromSha256, tokenSha256 } from '../rules/token.js';
import { tokenNotAccepted } from '../verifier/token-index.js';

export interface DomainSummary {
  ref: string;
  domain: string;
  identityProvider: IdentityProvider;
}

export type TokenCheck =
  | { result: 'valid'; fingerprint: string; tokenId: string; domain: DomainSummary }
  | { result: 'malformed' }
  | { result: 'revoked'; fingerprint: string; domain: DomainSummary; revoked: RevokedToken }
  | { result: 'revoked'; fingerprint: string; domain: DomainSummary; why: string }
  | { result: 'unknown'; fingerprint: string };

function summary(d: ScimDomain): DomainSummary {
  return {
    ref: `${d.metadata.namespace}/${d.metadata.name}`,
    domain: d.spec.domain,
    identityProvider: d.spec.identityProvider ?? 'Other',
  };
}

export function checkToken(token: string, domains: readonly ScimDomain[]): TokenCheck {
  if (checkTokenFormat(token) !== 'ok') return { result: 'malformed' };
  const sha256 = tokenSha256(token);
  const fingerprint = fingerprintFromSha256(sha256);
  // A current token wins over a revoked entry elsewhere, as in the verifier's index.
  let inactive: TokenCheck | undefined;
  for (const d of domains) {
    if (d.status?.token?.sha256 !== sha256) continue;
    const why = tokenNotAccepted(d);
    if (why === undefined) {
      return { result: 'valid', fingerprint, tokenId: d.status.token.id, domain: summary(d) };
    }
    inactive ??= { result: 'revoked', fingerprint, domain: summary(d), why };
  }
  if (inactive) return inactive;
  let latest: { d: ScimDomain; revoked: RevokedToken } | undefined;
  for (const d of domains) {
    for (const r of d.status?.revokedTokens ?? []) {
      if (r.fingerprint === fingerprint && (latest === undefined || r.revokedAt > latest.revoked.revokedAt)) {
        latest = { d, revoked: r };
      }
    }
  }
  if (latest) return { result: 'revoked', fingerprint, domain: summary(latest.d), revoked: latest.revoked };
  return { result: 'unknown', fingerprint };
}

const REVOCATION_WORDS: Readonly<Record<string, string>> = {
  Rotated: 'replaced by a rotation',
  Suspended: 'provisioning was suspended',
  SecretTampered: 'its Secret was edited by hand',
  SecretLost: 'its Secret was deleted',
  Deleted: 'the ScimDomain was deleted',
};

/** One line describing the outcome, e.g. `valid: token sha256:… (tok-…) of ScimDomain ns/name …`. */
export function describeCheck(check: TokenCheck, scope: string): string {
  switch (check.result) {
    case 'valid':
      return (
        `valid: token ${check.fingerprint} (${check.tokenId}) is the current token of ScimDomain ` +
        `${check.domain.ref} (domain ${check.domain.domain}, IdP ${check.domain.identityProvider})`
      );
    case 'malformed':
      return (
        'invalid (malformed): this is not a SCIM token of scim-token-operator ' +
        '(expected sct_ followed by 46 base62 characters with a valid checksum)'
      );
    case 'revoked':
      if ('revoked' in check) {
        const why = REVOCATION_WORDS[check.revoked.reason] ?? check.revoked.reason;
        return (
          `invalid (revoked): token ${check.fingerprint} (${check.revoked.id}) of ScimDomain ${check.domain.ref} ` +
          `(domain ${check.domain.domain}) was revoked at ${check.revoked.revokedAt}: ${why} ` +
          `(reason ${check.revoked.reason})`
        );
      }
      return (
        `invalid (revoked): token ${check.fingerprint} is the current token of ScimDomain ${check.domain.ref} ` +
        `(domain ${check.domain.domain}), but it is not accepted: ${check.why}`
      );
    case 'unknown':
      return `invalid (unknown): no ScimDomain ${scope} issued token ${check.fingerprint}`;
  }
}
