// Reading the bearer credential of a request (RFC 6750 §2.1) and sorting it into what the verifier
// answers for it: no credential, a credential that cannot be a token of ours, or a well-formed token.
//
// Pure and allocation-light: this runs on every verifier request, before any hashing. The format and
// checksum pre-check (SPEC §2.1) happens here, so a malformed credential is never hashed or looked up.

import { checkTokenFormat } from '../rules/token.js';

export type Credential =
  | { readonly kind: 'missing' }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'token'; readonly token: string };

// Shared results: the common outcomes allocate nothing.
export const MISSING: Credential = Object.freeze({ kind: 'missing' });
export const MALFORMED: Credential = Object.freeze({ kind: 'malformed' });

const SCHEME = 'bearer';
const SP = 0x20;

/**
 * Classifies an `Authorization` header value (undefined when the request has none).
 *
 * - none, empty, or another scheme (`Basic …`) → `missing`: RFC 6750 §3.1 treats "used an unsupported
 *   authentication method" like "sent no credentials", and says not to name an error then;
 * - `Bearer` (any case, RFC 7235 §2.1) + one or more spaces + a credential that is not exactly one
 *   SPEC §2.1 token with a valid checksum → `malformed`;
 * - otherwise the token.
 *
 * `count` is how many Authorization header lines the request carried: more than one is ambiguous
 * (which one would a proxy have checked?), so it is malformed whatever they say.
 */
export function parseAuthorization(
  value: string | undefined,
  count = value === undefined ? 0 : 1,
): Credential {
  if (count > 1) return MALFORMED;
  if (value === undefined || value.length === 0) return MISSING;
  // Node has already stripped leading and trailing whitespace from the field value.
  let i = 0;
  while (i < value.length && value.charCodeAt(i) !== SP) i++;
  if (i !== SCHEME.length || !isBearerScheme(value)) return MISSING;
  // `credentials = "Bearer" 1*SP b64token`
  while (i < value.length && value.charCodeAt(i) === SP) i++;
  if (i === SCHEME.length) return MALFORMED; // "Bearer" alone
  const token = value.slice(i);
  return checkTokenFormat(token) === 'ok' ? { kind: 'token', token } : MALFORMED;
}

function isBearerScheme(value: string): boolean {
  for (let i = 0; i < SCHEME.length; i++) {
    // ASCII case folding: `| 0x20` maps A-Z onto a-z and leaves a-z alone.
    if ((value.charCodeAt(i) | 0x20) !== SCHEME.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * The credential of a request, read from its raw header list (name, value, name, value, …) rather
 * than `req.headers`: that object is built lazily on first access, for every header of the request,
 * and the hot path needs only this one. The raw list also shows duplicates, which `req.headers`
 * hides (Node keeps the first Authorization and drops the rest).
 */
export function credentialFromRawHeaders(rawHeaders: readonly string[]): Credential {
  let value: string | undefined;
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (isAuthorizationName(rawHeaders[i]!)) {
      count++;
      value ??= rawHeaders[i + 1];
    }
  }
  return parseAuthorization(value, count);
}

const AUTHORIZATION = 'authorization';

/** ASCII case-insensitive `name === 'Authorization'`, without the lowercase copy toLowerCase makes. */
function isAuthorizationName(name: string): boolean {
  if (name.length !== AUTHORIZATION.length) return false;
  // Every character of the name is a letter, so `| 0x20` folds exactly A-Z onto a-z.
  for (let i = 0; i < AUTHORIZATION.length; i++) {
    if ((name.charCodeAt(i) | 0x20) !== AUTHORIZATION.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Classifies a token handed over as a value (the `spec.token` of a TokenReview, untrusted JSON):
 * absent or empty → `missing`; anything but exactly one well-formed token, surrounding whitespace
 * included → `malformed`.
 */
export function credentialOf(token: unknown): Credential {
  if (token === undefined || token === null || token === '') return MISSING;
  return typeof token === 'string' && checkTokenFormat(token) === 'ok' ? { kind: 'token', token } : MALFORMED;
}
