// `kubectl scim domains [-A]`: the ScimDomains in the namespace (or all namespaces) as a table.
import { domainsTable } from '../format.js';
import type { CommandContext } from './context.js';

export async function runDomains(ctx: CommandContext, opts: { allNamespaces: boolean }): Promise<void> {
  const s = ctx.session();
  const namespace = opts.allNamespaces ? undefined : s.namespace;
  const domains = await s.listDomains(
    namespace,
    opts.allNamespaces
      ? 'Without -A only one namespace is listed: kubectl scim domains -n <namespace>'
      : undefined,
  );
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
