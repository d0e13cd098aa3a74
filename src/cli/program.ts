// `kubectl scim`: the command tree (commander), option parsing, and the mapping of outcomes to exit
// codes — 0 ok, 1 failure, 2 usage. Commands live in commands/; this file only wires them.
//
// Testable without a process: `runCli` takes argv, the streams, the environment and a clock, and
// returns the exit code. Commander is told to write through our streams and never to exit.

import { Command, CommanderError, Option } from 'commander';
import type { IdentityProvider } from '../api/types.js';
import { parseDuration } from '../rules/duration.js';
import { runAdd } from './commands/add.js';
import type { CommandContext } from './commands/context.js';
import { runDomains } from './commands/domains.js';
import { runRotate } from './commands/rotate.js';
import { runToken } from './commands/token.js';
import { runStatus } from './commands/status.js';
import { runVerify } from './commands/verify.js';
import { completionScript } from './completion.js';
import type { OutputFormat } from './output.js';
import { parseAge } from './report.js';
import { versionLine } from './version.js';
import { CliError, ExitCode, UsageError } from './errors.js';
import type { CliIo } from './io.js';
import { openSession, type Session, type SessionOptions } from './session.js';
import type { Clock } from './wait.js';

export const PROGRAM = 'kubectl scim';
const IDPS: readonly IdentityProvider[] = ['EntraID', 'Okta', 'GoogleWorkspace', 'Other'];

export interface CliDeps {
  io: CliIo;
  clock: Clock;
  /** Default: load the kubeconfig like kubectl (session.ts). */
  openSession?: (opts: SessionOptions, env: CliIo['env']) => Session;
}

/** --ttl: a duration such as 1h or 7d, as whole seconds. */
function parseTtl(value: string): number {
  const ms = parseAge(value);
  if (ms === undefined || ms < 1000) {
    throw new UsageError(
      `--ttl: expected a duration of at least 1s such as 1h or 7d, got ${JSON.stringify(value)}`,
    );
  }
  return Math.round(ms / 1000);
}

/** --overlap: kept as written (it becomes spec.overlap), checked as the CRD checks it. */
function parseOverlap(value: string): string {
  try {
    parseDuration(value);
  } catch (err) {
    throw new UsageError(`--overlap: ${(err as Error).message} (at most 24h, e.g. 30m or 1h)`);
  }
  return value.trim();
}

const outputOption = (allowed: readonly OutputFormat[]) =>
  new Option('-o, --output <format>', 'print the objects instead of the table').choices(allowed);

function parseTimeout(value: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new UsageError(`--timeout: ${(err as Error).message}`);
  }
}

interface GlobalOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

function buildProgram(deps: CliDeps, setExit: (code: ExitCode) => void): Command {
  const { io } = deps;
  let session: Session | undefined;
  const context = (cmd: Command): CommandContext => ({
    io,
    clock: deps.clock,
    session: () => {
      if (session === undefined) {
        const g = cmd.optsWithGlobals<GlobalOptions>();
        session = (deps.openSession ?? openSession)(
          {
            ...(g.kubeconfig !== undefined ? { kubeconfig: g.kubeconfig } : {}),
            ...(g.context !== undefined ? { context: g.context } : {}),
            ...(g.namespace !== undefined ? { namespace: g.namespace } : {}),
          },
          io.env,
        );
      }
      return session;
    },
  });

  const program = new Command('kubectl-scim')
    .usage('<command> [options]')
    .description(
      'Manage SCIM bearer tokens of scim-token-operator with your own kubeconfig and RBAC.\n' +
        'Tokens are printed only by add, rotate and token, alone on stdout; everything else goes to stderr.',
    )
    .exitOverride()
    .showSuggestionAfterError(true)
    .showHelpAfterError(`(run "${PROGRAM} --help" for usage)`)
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      outputError: (s, write) => write(`${PROGRAM}: ${s.replace(/^error: /, '')}`),
    })
    .helpOption('-h, --help', 'show help')
    .version(versionLine(), '--version', 'print the version')
    .helpCommand(false)
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use')
    .option('-n, --namespace <namespace>', "namespace (default: the context's namespace, else default)");
  program.name(PROGRAM);

  const timeout = (def: string) =>
    new Option('--timeout <duration>', 'how long to wait for the operator (e.g. 30s, 2m)')
      .default(def)
      .argParser(parseTimeout);

  program
    .command('domains')
    .alias('ls')
    .description('list ScimDomains: domain, IdP, readiness, token fingerprint and age, last rotation')
    .option('-A, --all-namespaces', 'list ScimDomains in all namespaces', false)
    .addOption(outputOption(['json', 'yaml', 'name']))
    .action(async (opts: { allNamespaces: boolean; output?: OutputFormat }, cmd: Command) => {
      await runDomains(context(cmd), opts);
    });

  program
    .command('status')
    .argument('<name>', 'the ScimDomain')
    .description(
      'show one ScimDomain in full: readiness and conditions, token and max age, overlap and delivery,\n' +
        'its rotations with schedules and next runs, and recent Events',
    )
    .addOption(outputOption(['json', 'yaml', 'name']))
    .action(async (name: string, opts: { output?: OutputFormat }, cmd: Command) => {
      await runStatus(context(cmd), name, opts);
    });

  program
    .command('add')
    .argument('<domain>', 'the email domain, e.g. contoso.example')
    .description('create a ScimDomain, wait for its token, print it once with the IdP next steps')
    .option('--name <name>', 'object name (default: the domain with dots replaced by dashes)')
    .addOption(
      new Option('--idp <provider>', 'identity provider (drives the next steps)')
        .choices(IDPS)
        .default('Other'),
    )
    .option('--no-invitations', 'the application should not email users created by provisioning')
    .option('--scim-base-url <url>', "your application's SCIM base URL (https://…), kept with the token")
    .option(
      '--reveal-once',
      'the token can be shown only once (here); afterwards only a rotation helps',
      false,
    )
    .addOption(timeout('60s'))
    .action(
      async (
        domain: string,
        opts: {
          name?: string;
          idp: IdentityProvider;
          invitations: boolean;
          scimBaseUrl?: string;
          revealOnce: boolean;
          timeout: number;
        },
        cmd: Command,
      ) => {
        await runAdd(context(cmd), domain, {
          ...(opts.name !== undefined ? { name: opts.name } : {}),
          idp: opts.idp,
          invitations: opts.invitations,
          ...(opts.scimBaseUrl !== undefined ? { scimBaseUrl: opts.scimBaseUrl } : {}),
          revealOnce: opts.revealOnce,
          timeoutMs: opts.timeout,
        });
      },
    );

  program
    .command('rotate')
    .argument('<name>', 'the ScimDomain')
    .description('replace the token now: the current one stops working immediately (asks to confirm)')
    .option('--reason <text>', 'why (recorded on the ScimTokenRotation), e.g. "token lost"')
    .option('-y, --yes', 'do not ask; required when standard input is not a terminal', false)
    .addOption(timeout('60s'))
    .addOption(
      new Option('--ttl <duration>', 'delete the ScimTokenRotation this long after it ran (e.g. 1h, 7d)')
        .default(3600, '1h')
        .argParser(parseTtl),
    )
    .addOption(
      new Option(
        '--overlap <duration>',
        'keep the current token working this long after the new one is issued (≤ 24h, e.g. 1h)',
      ).argParser(parseOverlap),
    )
    .option('--dry-run', 'print the ScimTokenRotation to commit to Git instead of creating it', false)
    .addOption(
      new Option('-o, --output <format>', 'with --dry-run: the format to print').choices(['yaml', 'json']),
    )
    .action(
      async (
        name: string,
        opts: {
          reason?: string;
          yes: boolean;
          timeout: number;
          ttl: number;
          overlap?: string;
          dryRun: boolean;
          output?: 'yaml' | 'json';
        },
        cmd: Command,
      ) => {
        if (opts.output !== undefined && !opts.dryRun) {
          throw new UsageError('-o is for --dry-run: rotate --dry-run -o yaml prints the rotation to commit');
        }
        const namespace = cmd.optsWithGlobals<GlobalOptions>().namespace;
        await runRotate(context(cmd), name, {
          ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
          yes: opts.yes,
          timeoutMs: opts.timeout,
          ttlSeconds: opts.ttl,
          ...(opts.overlap !== undefined ? { overlap: opts.overlap } : {}),
          ...(opts.dryRun
            ? {
                dryRun: {
                  output: opts.output ?? 'yaml',
                  ...(namespace !== undefined ? { namespace } : {}),
                },
              }
            : {}),
        });
      },
    );

  program
    .command('token')
    .argument('<name>', 'the ScimDomain')
    .description('print the current token (a reveal-once token only the first time)')
    .addOption(timeout('15s'))
    .action(async (name: string, opts: { timeout: number }, cmd: Command) => {
      await runToken(context(cmd), name, { timeoutMs: opts.timeout });
    });

  program
    .command('verify')
    .description(
      'read a token from standard input and say whether it is valid, for which domain, or why not\n' +
        '(locally from the ScimDomains you may list; with --url, by asking a running verifier)',
    )
    .option('--url <url>', "ask this verifier's POST /v1/tokenreviews, e.g. http://127.0.0.1:8443")
    .option('--ca-file <file>', "PEM to trust for the verifier's certificate")
    .option(
      '--insecure-skip-tls-verify',
      "do not check the verifier's certificate (its self-signed default)",
      false,
    )
    .action(async (opts: { url?: string; caFile?: string; insecureSkipTlsVerify: boolean }, cmd: Command) => {
      setExit(
        await runVerify(context(cmd), {
          ...(opts.url !== undefined ? { url: opts.url } : {}),
          ...(opts.caFile !== undefined ? { caFile: opts.caFile } : {}),
          insecureSkipTlsVerify: opts.insecureSkipTlsVerify,
        }),
      );
    });

  program
    .command('completion')
    .argument('<shell>', 'bash or zsh')
    .description('print a shell completion script: source <(kubectl-scim completion bash)')
    .action((shell: string) => {
      io.stdout.write(completionScript(program, shell));
    });

  program.addHelpText(
    'after',
    `
Examples:
  ${PROGRAM} add contoso.example --idp EntraID --scim-base-url https://app.example.com/scim/v2
  ${PROGRAM} domains -A -o yaml
  ${PROGRAM} status contoso-example
  ${PROGRAM} rotate contoso-example --reason "token lost"
  ${PROGRAM} rotate contoso-example --dry-run -o yaml > rotations/contoso-2026-11.yaml
  ${PROGRAM} token contoso-example | ${PROGRAM} verify

Exit codes: 0 ok, 1 failure (or an invalid token for verify), 2 usage.`,
  );
  return program;
}

/** Runs the CLI and returns its exit code; never exits the process. */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<ExitCode> {
  let exit: ExitCode = ExitCode.ok;
  const program = buildProgram(deps, (code) => (exit = code));
  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return ExitCode.usage;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return exit;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already written its message (or the help) through configureOutput.
      return err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.help' ||
        err.code === 'commander.version'
        ? ExitCode.ok
        : ExitCode.usage;
    }
    if (err instanceof CliError) {
      deps.io.stderr.write(`${PROGRAM}: ${err.message}\n`);
      return err.exitCode;
    }
    // A bug, not a user error: say so, without a stack trace full of paths (set DEBUG for it).
    deps.io.stderr.write(
      `${PROGRAM}: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    if (deps.io.env.DEBUG && err instanceof Error && err.stack) deps.io.stderr.write(`${err.stack}\n`);
    return ExitCode.failure;
  }
}
