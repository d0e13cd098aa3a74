// The verifier's in-memory index (SPEC §4, §2.5): which token hashes are accepted right now and on
// behalf of which ScimDomain, and which fingerprints are known to be revoked.
//
// Fed one ScimDomain at a time by the watch (verifier.ts). Each event replaces exactly what the index
// held for that object — at most one current hash and REVOKED_TOKENS_LIMIT fingerprints — so an
// update costs O(1) whatever the number of domains; nothing is ever rebuilt.
//
// Validity is decided only by the ScimDomain (SPEC §2.5): `status.token.sha256` of a domain whose
// Ready condition is True (recorded at most one generation ago), that is not suspended and not
// being deleted. The verifier never reads
// Secrets (SPEC §3).
//
// Pure apart from the injected clock, which only ages tombstones.

import { ConditionType, type IdentityProvider, type ScimDomain } from '../api/types.js';
import { getCondition } from '../rules/conditions.js';
import { fingerprintFromSha256 as fingerprintOf } from '../rules/token.js';

/** What a valid token stands for; the verifier hands this to the application as headers. */
export interface TokenGrant {
  readonly domain: string;
  /** `namespace/name` of the ScimDomain. */
  readonly ref: string;
  readonly sendEmailInvitations: boolean;
  readonly identityProvider: IdentityProvider;
  readonly tokenId: string;
  /** A previous token in its overlap (SPEC §2.2): valid until then (ISO time, and ms since the epoch). */
  readonly expiresAt?: string;
  readonly expiresAtMs?: number;
}

/** A grant, or why there is none. */
export type Lookup = TokenGrant | 'revoked' | 'unknown';

export interface TokenIndexOptions {
  /** Milliseconds since the epoch; default `Date.now`. */
  now?: () => number;
  /**
   * How long the tokens of a deleted ScimDomain still answer `revoked` rather than `unknown`. A
   * deleted object takes its `revokedTokens` with it, so without this a deletion would look like
   * the token never existed.
   */
  tombstoneTtlMs?: number;
  /** At most this many tombstones are kept (the oldest go first), so mass deletion cannot grow memory. */
  maxTombstones?: number;
}

export const DEFAULT_TOMBSTONE_TTL_MS = 24 * 3_600_000;
export const DEFAULT_MAX_TOMBSTONES = 100_000;

// What one ScimDomain contributes to the index, so that its next event can take it out again.
interface Held {
  /** Key in `valid`, when the domain's token is accepted. */
  valid: string | undefined;
  /** Key in `inactive`: the current token of a domain that is suspended, not Ready or deleting. */
  inactive: string | undefined;
  /** Key in `valid` of the previous token, while an overlap keeps it valid. */
  previous: string | undefined;
  /** Fingerprints counted in `revoked`. */
  revoked: readonly string[];
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const FINGERPRINT = /^sha256:[0-9a-f]{12}$/;
// Values become response headers: visible ASCII only, or writeHead would throw on the hot path. The
// CRD's validation already guarantees this; a hand-edited status that breaks it is simply not served.
const HEADER_SAFE = /^[\x21-\x7e]+$/;
const IDENTITY_PROVIDERS: ReadonlySet<string> = new Set(['EntraID', 'Okta', 'GoogleWorkspace', 'Other']);

/** `namespace/name`: the key of a ScimDomain here and in `X-Scim-Domain-Ref`. */
export function domainRef(d: Pick<ScimDomain, 'metadata'>): string {
  return `${d.metadata.namespace}/${d.metadata.name}`;
}

/** The fingerprint (SPEC §2.1) of a SHA-256 hex digest, as `status.revokedTokens` records it: the rule's one owner. */
export { fingerprintFromSha256 as fingerprintOf } from '../rules/token.js';

/**
 * Why a domain's current token is not accepted, or undefined when it is. Pure; the order is the
 * order in which the reasons would be explained to a human.
 */
export function tokenNotAccepted(d: ScimDomain): string | undefined {
  if (d.metadata.deletionTimestamp) return 'the ScimDomain is being deleted';
  if (d.spec?.suspend === true) return 'provisioning is suspended';
  const ready = getCondition(d.status?.conditions, ConditionType.Ready);
  if (ready?.status !== 'True') return 'the ScimDomain is not Ready';
  // Changed twice or more since the operator recorded Ready: a suspension may have come and gone in
  // between, and a token it revoked never verifies again (SPEC §2.3). Refused until the operator
  // has seen the domain again (it re-issues if it cannot rule that out).
  if ((d.metadata.generation ?? 0) - (ready.observedGeneration ?? 0) > 1)
    return 'the ScimDomain changed more than once since the operator recorded it';
  const sha = d.status?.token?.sha256;
  if (sha === undefined || !SHA256_HEX.test(sha)) return 'the ScimDomain has no token';
  return undefined;
}

/** The grant for a domain's current token, or undefined if it has none or it is not accepted. */
export function grantFor(d: ScimDomain): TokenGrant | undefined {
  if (tokenNotAccepted(d) !== undefined) return undefined;
  const idp = d.spec.identityProvider ?? 'Other';
  const grant: TokenGrant = {
    domain: d.spec.domain,
    ref: domainRef(d),
    sendEmailInvitations: d.spec.sendEmailInvitations ?? true,
    identityProvider: IDENTITY_PROVIDERS.has(idp) ? idp : 'Other',
    tokenId: d.status?.token?.id ?? '',
  };
  const headerSafe =
    HEADER_SAFE.test(grant.domain) && HEADER_SAFE.test(grant.ref) && HEADER_SAFE.test(grant.tokenId);
  return headerSafe ? grant : undefined;
}

export class TokenIndex {
  private readonly now: () => number;
  private readonly tombstoneTtlMs: number;
  private readonly maxTombstones: number;

  /** sha256 → grant: the tokens accepted right now. */
  private readonly valid = new Map<string, TokenGrant>();
  /** sha256 → ref: current tokens of domains that are not accepting them. */
  private readonly inactive = new Map<string, string>();
  /** fingerprint → how many domains list it in `revokedTokens`. */
  private readonly revoked = new Map<string, number>();
  /** fingerprint → expiry (ms): tokens of deleted domains. Insertion order is expiry order. */
  private readonly tombstones = new Map<string, number>();
  private readonly held = new Map<string, Held>();

  constructor(options: TokenIndexOptions = {}) {
    this.now = options.now ?? Date.now;
    this.tombstoneTtlMs = options.tombstoneTtlMs ?? DEFAULT_TOMBSTONE_TTL_MS;
    this.maxTombstones = options.maxTombstones ?? DEFAULT_MAX_TOMBSTONES;
  }

  /** Number of tokens accepted right now. */
  get size(): number {
    return this.valid.size;
  }

  /** Number of distinct revoked fingerprints known (listed in a status, or of a deleted domain). */
  get revokedSize(): number {
    return this.revoked.size + this.tombstones.size;
  }

  /** Number of ScimDomains the index holds something for. */
  get domains(): number {
    return this.held.size;
  }

  /**
   * Looks up a token by the lowercase hex SHA-256 of the whole token string. Never sees the token.
   * A valid token wins over a fingerprint collision with a revoked one (48 bits: astronomically rare,
   * but the order makes the answer for a current token exact).
   */
  lookup(sha256Hex: string): Lookup {
    const grant = this.valid.get(sha256Hex);
    // A previous token is refused from its expiresAt on, whether or not the operator has written the
    // status that ends the overlap yet.
    if (grant !== undefined)
      return grant.expiresAtMs !== undefined && grant.expiresAtMs <= this.now() ? 'revoked' : grant;
    if (this.inactive.has(sha256Hex)) return 'revoked';
    const fingerprint = fingerprintOf(sha256Hex);
    if (this.revoked.has(fingerprint)) return 'revoked';
    const expires = this.tombstones.get(fingerprint);
    return expires !== undefined && expires > this.now() ? 'revoked' : 'unknown';
  }

  /** Applies an added or updated ScimDomain: its previous entries go, its current ones come in. */
  upsert(d: ScimDomain): void {
    const ref = domainRef(d);
    this.drop(ref);
    const held: Held = { valid: undefined, inactive: undefined, previous: undefined, revoked: [] };
    const sha = d.status?.token?.sha256;
    if (sha !== undefined && SHA256_HEX.test(sha)) {
      const grant = grantFor(d);
      if (grant !== undefined) {
        this.valid.set(sha, grant);
        held.valid = sha;
      } else {
        this.inactive.set(sha, ref);
        held.inactive = sha;
      }
    }
    const previous = previousGrantFor(d);
    if (previous !== undefined) {
      this.valid.set(previous.sha256, previous.grant);
      held.previous = previous.sha256;
    }
    held.revoked = revokedFingerprints(d);
    for (const fp of held.revoked) this.revoked.set(fp, (this.revoked.get(fp) ?? 0) + 1);
    this.held.set(ref, held);
    this.pruneTombstones();
  }

  /**
   * Applies a deleted ScimDomain. Its current and revoked tokens are remembered as revoked for the
   * tombstone TTL: deleting a domain revokes its token (SPEC §2.3).
   */
  remove(d: ScimDomain): void {
    const ref = domainRef(d);
    const held = this.held.get(ref);
    const current = held?.valid ?? held?.inactive ?? d.status?.token?.sha256;
    const previous = held?.previous ?? d.status?.previousToken?.sha256;
    this.drop(ref);
    const fingerprints = revokedFingerprints(d);
    for (const sha of [current, previous])
      if (sha !== undefined && SHA256_HEX.test(sha)) fingerprints.push(fingerprintOf(sha));
    const expires = this.now() + this.tombstoneTtlMs;
    for (const fp of fingerprints) {
      // Re-inserting moves the key to the end, keeping insertion order equal to expiry order.
      this.tombstones.delete(fp);
      this.tombstones.set(fp, expires);
    }
    this.pruneTombstones();
  }

  private drop(ref: string): void {
    const held = this.held.get(ref);
    if (held === undefined) return;
    // Another domain may hold the same hash (a hand-copied status); only remove what is ours.
    if (held.valid !== undefined && this.valid.get(held.valid)?.ref === ref) this.valid.delete(held.valid);
    if (held.previous !== undefined && this.valid.get(held.previous)?.ref === ref)
      this.valid.delete(held.previous);
    if (held.inactive !== undefined && this.inactive.get(held.inactive) === ref) {
      this.inactive.delete(held.inactive);
    }
    for (const fp of held.revoked) {
      const n = (this.revoked.get(fp) ?? 1) - 1;
      if (n <= 0) this.revoked.delete(fp);
      else this.revoked.set(fp, n);
    }
    this.held.delete(ref);
  }

  // Amortised O(1): each tombstone is inserted once and pruned once.
  private pruneTombstones(): void {
    const now = this.now();
    for (const [fp, expires] of this.tombstones) {
      if (expires > now && this.tombstones.size <= this.maxTombstones) break;
      this.tombstones.delete(fp);
    }
  }
}

/** The grant of a domain's previous token while its overlap lasts (the same rules as the current one). */
export function previousGrantFor(d: ScimDomain): { sha256: string; grant: TokenGrant } | undefined {
  const previous = d.status?.previousToken;
  const current = grantFor(d);
  if (!previous || current === undefined || !SHA256_HEX.test(previous.sha256 ?? '')) return undefined;
  const expiresAtMs = Date.parse(previous.expiresAt);
  if (
    Number.isNaN(expiresAtMs) ||
    !HEADER_SAFE.test(previous.id ?? '') ||
    !HEADER_SAFE.test(previous.expiresAt)
  )
    return undefined;
  return {
    sha256: previous.sha256,
    grant: { ...current, tokenId: previous.id, expiresAt: previous.expiresAt, expiresAtMs },
  };
}

function revokedFingerprints(d: ScimDomain): string[] {
  const out: string[] = [];
  for (const r of d.status?.revokedTokens ?? []) {
    const fp = r?.fingerprint;
    if (typeof fp === 'string' && FINGERPRINT.test(fp) && !out.includes(fp)) out.push(fp);
  }
  return out;
}
