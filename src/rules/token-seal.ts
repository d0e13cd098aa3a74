// Binding what the operator writes into a Secret to what it meant to write (SPEC §2.3).
//
// A token written to a Secret is recorded in status in a second write; a crash between the two
// leaves a Secret one generation ahead of status, which the next reconcile adopts instead of
// issuing again. Anyone who may write the Secret (the namespace `edit` role may) could fake that
// state and have a token of their choosing adopted. So every token the operator writes carries a
// seal: an HMAC-SHA256, under a key only the operator reads (--token-seal-key-file), over the
// domain's UID and everything adoption copies into status (generation, hash, token id, cause,
// rotation). Adoption requires a seal that verifies; anything else is tampering.
//
// Pure: the key is handed in; HMAC is deterministic.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The Secret annotation that carries the seal. */
export const SEAL_ANNOTATION = 'scim.tokens.dev/token-seal';

/** Everything adoption takes from a Secret, and the domain it belongs to. */
export interface TokenBinding {
  domainUid: string;
  generation: number;
  sha256: string;
  id: string;
  cause: string;
  rotationKey?: string;
  rotationName?: string;
  /** With an overlap: when the token this one replaces stops verifying (ISO time). */
  overlapUntil?: string;
}

export interface TokenSealer {
  seal(b: TokenBinding): string;
  verify(b: TokenBinding, seal: string | undefined): boolean;
}

/** At least 32 bytes: the seal is only as strong as its key. */
export const MIN_SEAL_KEY_BYTES = 32;

// Unambiguous: every field is length-prefixed, so no two bindings serialize alike.
function message(b: TokenBinding): string {
  return [
    'scim-token-seal/v1',
    b.domainUid,
    String(b.generation),
    b.sha256,
    b.id,
    b.cause,
    b.rotationKey ?? '',
    b.rotationName ?? '',
    b.overlapUntil ?? '',
  ]
    .map((f) => `${f.length}:${f}`)
    .join('|');
}

export function createTokenSealer(key: Uint8Array): TokenSealer {
  if (key.length < MIN_SEAL_KEY_BYTES) {
    throw new RangeError(`the token seal key must be at least ${MIN_SEAL_KEY_BYTES} bytes`);
  }
  const k = Buffer.from(key);
  const seal = (b: TokenBinding) => createHmac('sha256', k).update(message(b), 'utf8').digest('base64url');
  return {
    seal,
    verify(b, given) {
      if (typeof given !== 'string') return false;
      const want = Buffer.from(seal(b), 'utf8');
      const got = Buffer.from(given, 'utf8');
      return got.length === want.length && timingSafeEqual(got, want);
    },
  };
}
