// `kubectl scim token <name>`: prints the domain's current token (stdout, alone on its line). For a
// reveal-once domain this is the single time it is shown (SPEC §2.4).
import { IDP_DISPLAY_NAMES } from '../next-steps.js';
import { printToken, revealToken } from '../reveal.js';
import type { CommandContext } from './context.js';

export async function runToken(
  ctx: CommandContext,
  name: string,
  opts: { timeoutMs: number },
): Promise<void> {
  const s = ctx.session();
  const t = await revealToken(s, name, s.namespace, ctx.clock, opts.timeoutMs);
  const d = t.domain;
  printToken(
    ctx.io,
    t,
    `SCIM token ${t.fingerprint} of ScimDomain ${d.metadata.namespace}/${d.metadata.name} ` +
      `(domain ${d.spec.domain}, for ${IDP_DISPLAY_NAMES[d.spec.identityProvider ?? 'Other']}):`,
    { sayWhoCanShowItAgain: false },
  );
}
