// Reading a domain's token out of its Secret for `add`, `rotate` and `token` — the only places the
// CLI handles a token — and the reveal-once rule of SPEC §2.4.
//
// The token is handed out only when SHA-256(token) equals the domain's `status.token.sha256`: the
// Secret is written before the status (SPEC §2.5), so for a moment during a rotation it can hold a
// token that is not valid yet, or a hand-edited one; we wait for the two to agree instead of printing
// a token that does not work.
//
// Reveal-once: the Secret is annotated `scim.tokens.dev/revealed: "true"` with a resourceVersion
// precondition *before* the token is printed, so two people running `kubectl scim token` at the same
// moment cannot both see it: exactly one patch wins, the other re-reads and finds it revealed.

import { REVEALED_ANNOTATION, SecretKeys, type ScimDomain } from '../api/types.js';
import { tokenFingerprint, tokenSha256 } from '../rules/token.js';
import { CliError } from './errors.js';
import type { Session } from './session.js';
import { domainState, notReadyHint, secretNameOf } from './status.js';
import { WaitTimeout, waitUntil, type Clock } from './wait.js';

export interface RevealedToken {
  token: string;
  fingerprint: string;
  secretName: string;
  /** The domain has revealOnce: this was the one time the token is shown. */
  revealOnce: boolean;
  domain: ScimDomain;
}

export function cannotShowAgain(d: ScimDomain): CliError {
  const ref = `${d.metadata.namespace}/${d.metadata.name}`;
  return new CliError(
    `the token of ScimDomain ${ref} was already revealed and cannot be shown again (revealOnce). ` +
      `If it is lost, replace it with a rotation: kubectl scim rotate ${d.metadata.name} -n ${d.metadata.namespace}`,
  );
}

function notReady(d: ScimDomain, reason: string, message: string): CliError {
  return new CliError(
    `ScimDomain ${d.metadata.namespace}/${d.metadata.name} is not Ready (${reason}: ${message}). ${notReadyHint(d, reason)}`,
  );
}

/** Reads the current token of `name`, marking it revealed first when the domain is reveal-once. */
export async function revealToken(
  session: Session,
  name: string,
  namespace: string,
  clock: Clock,
  timeoutMs: number,
): Promise<RevealedToken> {
  try {
    return await waitUntil<RevealedToken>(
      async () => {
        const d = await session.getDomain(name, namespace);
        const state = domainState(d);
        if (state.kind === 'failed') throw notReady(d, state.reason, state.message);
        if (state.kind === 'pending') return { pending: `not Ready: ${state.reason}: ${state.message}` };
        const secretName = secretNameOf(d);
        const secret = await session.getSecret(secretName, namespace);
        if (secret === undefined) return { pending: `Secret ${secretName} does not exist (yet)` };
        const revealOnce = d.spec.revealOnce === true;
        const encoded = secret.data?.[SecretKeys.token];
        if (
          revealOnce &&
          (secret.metadata?.annotations?.[REVEALED_ANNOTATION] === 'true' || encoded === undefined)
        ) {
          throw cannotShowAgain(d);
        }
        if (encoded === undefined) return { pending: `Secret ${secretName} holds no token` };
        const token = Buffer.from(encoded, 'base64').toString('utf8');
        if (tokenSha256(token) !== state.token.sha256) {
          return {
            pending: `the token in Secret ${secretName} is not (yet) the domain's current token ${state.token.fingerprint}`,
          };
        }
        if (revealOnce) {
          const marked = await session.markRevealed(
            secretName,
            namespace,
            secret.metadata?.resourceVersion ?? '',
            REVEALED_ANNOTATION,
          );
          if (!marked) return { pending: `Secret ${secretName} changed while marking it revealed` };
        }
        return { done: { token, fingerprint: tokenFingerprint(token), secretName, revealOnce, domain: d } };
      },
      { timeoutMs, clock },
    );
  } catch (err) {
    if (err instanceof WaitTimeout) {
      throw new CliError(
        `could not read the token of ScimDomain ${namespace}/${name}: ${err.lastPending} ` +
          `(waited ${Math.round(err.waitedMs / 1000)}s). If a rotation is in progress, try again in a moment; ` +
          `see: kubectl describe scimdomain ${name} -n ${namespace}`,
      );
    }
    throw err;
  }
}

/**
 * Prints the token: the token alone on stdout (so `$(kubectl scim token x)` captures exactly it), the
 * words around it on stderr.
 */
export function printToken(
  io: { stdout: { write(s: string): unknown }; stderr: { write(s: string): unknown } },
  t: RevealedToken,
  intro: string,
  opts: { sayWhoCanShowItAgain: boolean } = { sayWhoCanShowItAgain: true },
): void {
  const ns = t.domain.metadata.namespace;
  const name = t.domain.metadata.name;
  io.stderr.write(`\n${intro}\n`);
  io.stdout.write(`${t.token}\n`);
  if (t.revealOnce) {
    io.stderr.write(
      `It will not be shown again (revealOnce): the Secret ${ns}/${t.secretName} is marked revealed and the ` +
        `operator removes the plaintext. If it is lost, rotate: kubectl scim rotate ${name} -n ${ns}\n`,
    );
  } else if (opts.sayWhoCanShowItAgain) {
    io.stderr.write(
      `Anyone who may read Secret ${ns}/${t.secretName} can show it again: kubectl scim token ${name} -n ${ns}\n`,
    );
  }
}
