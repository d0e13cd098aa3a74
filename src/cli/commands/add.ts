// `kubectl scim add <domain>`: creates a ScimDomain, waits until the operator has issued its token,
// prints the token (once, like the admin page's "add domain") and the IdP's next steps.
import type { IdentityProvider, ScimDomain, ScimDomainSpec, TokenStatus } from '../../api/types.js';
import { CliError, UsageError } from '../errors.js';
import { nextSteps } from '../next-steps.js';
import { printToken, revealToken } from '../reveal.js';
import { domainState, notReadyHint } from '../status.js';
import { WaitTimeout, waitUntil } from '../wait.js';
import { refOf, type CommandContext } from './context.js';

export interface AddOptions {
  name?: string;
  idp: IdentityProvider;
  invitations: boolean;
  scimBaseUrl?: string;
  revealOnce: boolean;
  timeoutMs: number;
}

/** The default object name for a domain: dots become dashes (`contoso.example` → `contoso-example`). */
export function defaultDomainName(domain: string): string {
  return domain.replaceAll('.', '-');
}

export async function runAdd(ctx: CommandContext, domain: string, opts: AddOptions): Promise<void> {
  if (domain.trim() === '')
    throw new UsageError('<domain>: expected an email domain such as contoso.example');
  if (opts.scimBaseUrl !== undefined && !/^https:\/\/[^\s/]+/.test(opts.scimBaseUrl)) {
    throw new UsageError(
      `--scim-base-url: expected an https:// URL, got ${JSON.stringify(opts.scimBaseUrl)}`,
    );
  }
  const s = ctx.session();
  const { io } = ctx;
  const name = opts.name ?? defaultDomainName(domain);
  const spec: ScimDomainSpec = {
    domain,
    identityProvider: opts.idp,
    sendEmailInvitations: opts.invitations,
    ...(opts.scimBaseUrl !== undefined ? { scimBaseUrl: opts.scimBaseUrl } : {}),
    ...(opts.revealOnce ? { revealOnce: true } : {}),
  };
  const created = await s.createDomain(name, spec);
  const ref = refOf(created);
  io.stderr.write(
    `ScimDomain ${ref} created (domain ${domain}, IdP ${opts.idp}${opts.revealOnce ? ', reveal once' : ''}). ` +
      'Waiting for the operator to issue its token…\n',
  );

  const ready = await waitUntil<{ d: ScimDomain; token: TokenStatus }>(
    async () => {
      const d = await s.getDomain(name);
      const st = domainState(d);
      if (st.kind === 'ready') return { done: { d, token: st.token } };
      if (st.kind === 'failed') {
        throw new CliError(
          `ScimDomain ${ref} is not Ready (${st.reason}: ${st.message}). ${notReadyHint(d, st.reason)}`,
        );
      }
      return { pending: `${st.reason}: ${st.message}` };
    },
    { timeoutMs: opts.timeoutMs, clock: ctx.clock },
  ).catch((err: unknown): never => {
    if (err instanceof WaitTimeout) {
      throw new CliError(
        `ScimDomain ${ref} was created but is not Ready after ${Math.round(err.waitedMs / 1000)}s ` +
          `(${err.lastPending}). Is the operator running and watching namespace ${created.metadata.namespace}? ` +
          `Once it is Ready: kubectl scim token ${name} -n ${created.metadata.namespace}`,
      );
    }
    throw err;
  });
  io.stderr.write(`Ready: token ${ready.token.fingerprint} (${ready.token.id}) issued.\n`);

  const t = await revealToken(s, name, created.metadata.namespace, ctx.clock, opts.timeoutMs);
  printToken(
    io,
    t,
    t.revealOnce
      ? `SCIM token for ${domain} — shown only this once, copy it now:`
      : `SCIM token for ${domain} — copy it now:`,
  );
  io.stderr.write(
    `\n${nextSteps({
      identityProvider: opts.idp,
      domain,
      ...(opts.scimBaseUrl !== undefined ? { scimBaseUrl: opts.scimBaseUrl } : {}),
      rotated: false,
      ref,
    }).join('\n')}\n`,
  );
}
