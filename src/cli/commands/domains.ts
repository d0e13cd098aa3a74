// `kubectl scim domains [-A] [-o json|yaml|name]`: the ScimDomains in the namespace (or all
// namespaces) as a table, or as kubectl prints objects.
import { DOMAIN_PLURAL, GROUP } from '../../api/types.js';
import { domainsTable } from '../format.js';
import { renderObjects, type OutputFormat } from '../output.js';
import type { CommandContext } from './context.js';

/** How `-o name` (and kubectl) names a ScimDomain: scimdomain.scim.tokens.dev/<name>. */
export const DOMAIN_RESOURCE_NAME = `${DOMAIN_PLURAL.replace(/s$/, '')}.${GROUP}`;

export async function runDomains(
  ctx: CommandContext,
  opts: { allNamespaces: boolean; output?: OutputFormat },
): Promise<void> {
  const s = ctx.session();
  const namespace = opts.allNamespaces ? undefined : s.namespace;
  const domains = await s.listDomains(
    namespace,
    opts.allNamespaces
      ? 'Without -A only one namespace is listed: kubectl scim domains -n <namespace>'
      : undefined,
  );
  if (opts.output !== undefined) {
    ctx.io.stdout.write(renderObjects(opts.output, domains, { resource: DOMAIN_RESOURCE_NAME, list: true }));
    return;
  }
  if (domains.length === 0) {
    ctx.io.stderr.write(
      namespace === undefined
        ? 'No ScimDomains found in any namespace.\n'
        : `No ScimDomains found in namespace ${namespace}. Add one: kubectl scim add <domain> -n ${namespace}\n`,
    );
    return;
  }
  ctx.io.stdout.write(domainsTable(domains, ctx.clock.now()));
}
