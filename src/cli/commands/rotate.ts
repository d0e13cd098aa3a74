// `kubectl scim rotate <name>`: the admin page's "refresh" — warns that the current token dies at
// once and for good, asks on a terminal (or insists on --yes), creates a one-shot ScimTokenRotation,
// waits for the operator to apply it, and prints the new token with the IdP's next steps.
import { API_VERSION, ROTATION_KIND, type ScimTokenRotation } from '../../api/types.js';
import { ageOf } from '../format.js';
import { renderObjects } from '../output.js';
import { confirm } from '../io.js';
import { CliError, UsageError } from '../errors.js';
import { IDP_DISPLAY_NAMES, nextSteps } from '../next-steps.js';
import { printToken, revealToken } from '../reveal.js';
import { domainState, notReadyHint, rotationState, type RotationState } from '../status.js';
import { WaitTimeout, waitUntil } from '../wait.js';
import { refOf, type CommandContext } from './context.js';

export interface RotateOptions {
  reason?: string;
  yes: boolean;
  timeoutMs: number;
  /** spec.ttlSecondsAfterFinished of the rotation created: it deletes itself this long after it ran. */
  ttlSeconds?: number;
  /** spec.overlap: the current token keeps working this long after the new one is recorded. */
  overlap?: string;
  /** Print the ScimTokenRotation to commit to Git instead of creating it. */
  dryRun?: { output: 'yaml' | 'json'; namespace?: string };
}

/** The one-shot rotation `rotate --dry-run` prints: a fixed name (Git needs one) and no TTL. */
export function rotationManifest(
  domainName: string,
  now: Date,
  opts: { namespace?: string; reason?: string; overlap?: string } = {},
): ScimTokenRotation {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 13).toLowerCase();
  const suffix = `-rotate-${stamp}`;
  return {
    apiVersion: API_VERSION,
    kind: ROTATION_KIND,
    metadata: {
      name: `${domainName.slice(0, 253 - suffix.length)}${suffix}`,
      ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
    } as ScimTokenRotation['metadata'],
    spec: {
      domainRef: { name: domainName },
      ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
      ...(opts.overlap !== undefined ? { overlap: opts.overlap } : {}),
    },
  };
}

function printManifest(ctx: CommandContext, r: ScimTokenRotation, output: 'yaml' | 'json'): void {
  if (output === 'json') {
    ctx.io.stdout.write(renderObjects('json', [r], { resource: '', list: false }));
    return;
  }
  ctx.io.stdout.write(
    `# Rotates the token of ScimDomain ${r.spec.domainRef.name} once, when first applied: the current token\n` +
      '# stops working at that instant. Commit it once; never let a tool re-create it (a new object\n' +
      '# rotates again) and do not add spec.ttlSecondsAfterFinished to it. docs/gitops.md explains.\n' +
      renderObjects('yaml', [r], { resource: '', list: false }),
  );
  ctx.io.stderr.write(
    `Not created (--dry-run). Commit this ScimTokenRotation to Git; to rotate again later, commit one with another name.\n`,
  );
}

export const NOT_A_TERMINAL =
  'refusing to rotate without confirmation: standard input is not a terminal. ' +
  'Pass --yes to rotate non-interactively (scripts, CI).';

export async function runRotate(ctx: CommandContext, name: string, opts: RotateOptions): Promise<void> {
  const { io, clock } = ctx;
  if (opts.dryRun) {
    printManifest(
      ctx,
      rotationManifest(name, clock.now(), {
        ...(opts.dryRun.namespace !== undefined ? { namespace: opts.dryRun.namespace } : {}),
        ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
        ...(opts.overlap !== undefined ? { overlap: opts.overlap } : {}),
      }),
      opts.dryRun.output,
    );
    return;
  }
  const s = ctx.session();
  const d = await s.getDomain(name);
  const ref = refOf(d);
  const st = domainState(d);
  if (st.kind !== 'ready') {
    throw new CliError(
      `cannot rotate: ScimDomain ${ref} is not Ready (${st.reason}: ${st.message}). ${notReadyHint(d, st.reason)}`,
    );
  }
  const idp = IDP_DISPLAY_NAMES[d.spec.identityProvider ?? 'Other'];
  const issued = ageOf(st.token.issuedAt, clock.now());
  io.stderr.write(
    `Rotating the SCIM token of ScimDomain ${ref} (domain ${d.spec.domain}).\n` +
      (opts.overlap === undefined
        ? `WARNING: the current token ${st.token.fingerprint} (${st.token.id}${issued ? `, issued ${issued} ago` : ''}) ` +
          `stops working immediately: provisioning from ${idp} fails until the new token is entered there.\n` +
          'This cannot be undone.\n'
        : `The current token ${st.token.fingerprint} (${st.token.id}${issued ? `, issued ${issued} ago` : ''}) ` +
          `keeps working for ${opts.overlap} after the new one is issued, then stops working for good: ` +
          `enter the new token in ${idp} before then, or provisioning fails from that moment.\n` +
          'A later rotation or a suspension ends the overlap at once. This cannot be undone.\n'),
  );
  if (!opts.yes) {
    if (io.stdin.isTTY !== true) throw new UsageError(NOT_A_TERMINAL);
    if (!(await confirm(io, `Rotate the token of ${ref} now?`))) {
      throw new CliError('not rotated: nothing was changed.');
    }
  }

  const created = await s.createRotation(name, {
    domainRef: { name },
    ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
    ...(opts.ttlSeconds !== undefined ? { ttlSecondsAfterFinished: opts.ttlSeconds } : {}),
    ...(opts.overlap !== undefined ? { overlap: opts.overlap } : {}),
  });
  const rotationName = created.metadata.name;
  const rotationRef = refOf(created);
  io.stderr.write(`ScimTokenRotation ${rotationRef} created; waiting for the operator…\n`);

  const rotated = await waitUntil<Extract<RotationState, { kind: 'rotated' }>>(
    async () => {
      const r = rotationState(await s.getRotation(rotationName));
      if (r.kind === 'rotated') return { done: r };
      if (r.kind === 'failed') {
        throw new CliError(
          `the rotation ${rotationRef} failed (${r.reason}: ${r.message}); the token was not replaced.`,
        );
      }
      return { pending: `${r.reason}: ${r.message}` };
    },
    {
      timeoutMs: opts.timeoutMs,
      clock,
      onPending: (why) => {
        if (!why.startsWith('NotReconciled')) io.stderr.write(`  waiting: ${why}\n`);
      },
    },
  ).catch((err: unknown): never => {
    if (err instanceof WaitTimeout) {
      throw new CliError(
        `the rotation ${rotationRef} has not completed after ${Math.round(err.waitedMs / 1000)}s (${err.lastPending}). ` +
          'The operator may still apply it, and then the current token stops working. ' +
          `Watch it: kubectl get scimtokenrotation ${rotationName} -n ${created.metadata.namespace}; ` +
          `cancel it while it has not happened: kubectl delete scimtokenrotation ${rotationName} -n ${created.metadata.namespace}`,
      );
    }
    throw err;
  });
  const previous = rotated.previousToken?.fingerprint ?? st.token.fingerprint;
  io.stderr.write(
    `Rotated: the previous token ${previous} ${opts.overlap === undefined ? 'is revoked' : `works for ${opts.overlap} more`}; the new token is ${rotated.newToken?.fingerprint ?? '?'}` +
      `${rotated.newToken ? ` (${rotated.newToken.id})` : ''}.\n`,
  );

  const t = await revealToken(s, name, d.metadata.namespace, clock, opts.timeoutMs);
  if (rotated.newToken && t.fingerprint !== rotated.newToken.fingerprint) {
    io.stderr.write(
      `Note: the domain's token changed again since (now ${t.fingerprint}); printing the current one.\n`,
    );
  }
  printToken(
    io,
    t,
    t.revealOnce
      ? `New SCIM token for ${d.spec.domain} — shown only this once, copy it now:`
      : `New SCIM token for ${d.spec.domain} — copy it now:`,
  );
  io.stderr.write(
    `\n${nextSteps({
      identityProvider: d.spec.identityProvider ?? 'Other',
      domain: d.spec.domain,
      ...(d.spec.scimBaseUrl !== undefined ? { scimBaseUrl: d.spec.scimBaseUrl } : {}),
      rotated: true,
      ref,
      ...(d.spec.delivery?.entraID ? { deliveredTo: d.spec.delivery.entraID.servicePrincipalId } : {}),
    }).join('\n')}\n`,
  );
}
