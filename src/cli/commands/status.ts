// `kubectl scim status <name>`: one domain in full — readiness, conditions, token and its age limit,
// overlap and delivery where present, its rotations with schedules and next runs, recent Events.
// Events are best effort: a user who may read domains but not Events still gets the rest.
import type { CoreV1Event } from '@kubernetes/client-node';
import { DOMAIN_KIND, ROTATION_KIND } from '../../api/types.js';
import { CliError } from '../errors.js';
import { renderObjects, type OutputFormat } from '../output.js';
import { domainReport, renderReport } from '../report.js';
import type { CommandContext } from './context.js';
import { DOMAIN_RESOURCE_NAME } from './domains.js';

export async function runStatus(
  ctx: CommandContext,
  name: string,
  opts: { output?: OutputFormat },
): Promise<void> {
  const s = ctx.session();
  const d = await s.getDomain(name);
  if (opts.output === 'name') {
    ctx.io.stdout.write(renderObjects('name', [d], { resource: DOMAIN_RESOURCE_NAME, list: false }));
    return;
  }
  const rotations = (await s.listRotations()).filter((r) => r.spec.domainRef.name === name);
  const mine = new Set(rotations.map((r) => r.metadata.name));
  let events: CoreV1Event[] = [];
  try {
    const [domainEvents, rotationEvents] = await Promise.all([
      s.listEvents(DOMAIN_KIND),
      s.listEvents(ROTATION_KIND),
    ]);
    events = [
      ...domainEvents.filter((e) => e.involvedObject.name === name),
      ...rotationEvents.filter((e) => mine.has(e.involvedObject.name ?? '')),
    ];
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    ctx.io.stderr.write(`Note: Events are not shown: ${err.message}\n`);
  }
  const report = domainReport(d, rotations, events, ctx.clock.now());
  if (opts.output === undefined) ctx.io.stdout.write(renderReport(report, ctx.clock.now()));
  else
    ctx.io.stdout.write(
      renderObjects(opts.output, [report], {
        resource: DOMAIN_RESOURCE_NAME,
        list: false,
      }),
    );
}
