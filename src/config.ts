// Command-line and environment configuration of the operator process (SPEC §5): the flag table, the
// parsing of every flag value into a typed, deeply frozen `Config`, and the `--help` text.
//
// Pure: `parseConfig` gets argv and env as arguments and never touches `process` (commander is told
// not to write, exit, read `process.env` or look at the terminal), so tests and `main.ts` see exactly
// the same behaviour. Precedence per setting: flag, then `SCIM_<FLAG>` env var, then default.
//
// Commander only collects raw strings here; all conversion and validation happens below, once, so a
// value from env and the same value from a flag are judged alike and every error names the flag.

import { isIP } from 'node:net';
import { Command, CommanderError, Option } from 'commander';
import { formatAddress, type ListenAddress } from './api/listen-address.js';
import type { DeliveryConfig } from './controllers/scimdomain/controller-config.js';
import type { LeaderElectionConfig } from './kube/leader-election-config.js';
import { LOG_LEVELS } from './observability/logger.js';
import { formatDuration, parseDuration } from './rules/duration.js';
import type { VerifierConfig } from './verifier/verifier-config.js';

export { formatDuration, parseDuration } from './rules/duration.js';
import type { LogLevel } from './observability/logger.js';

export type { LogLevel } from './observability/logger.js';

/**
 * What this process runs (SPEC §5): `controller` (reconciles; no verify port), `verifier` (answers
 * token checks; reads ScimDomains only, never leader-elected), or `all` of it in one process, the
 * default for local use and the demo.
 */
export const MODES = ['all', 'controller', 'verifier'] as const;
export type Mode = (typeof MODES)[number];

export interface Config {
  readonly mode: Mode;
  /** undefined: standard loading (KUBECONFIG, ~/.kube/config, in-cluster). */
  readonly kubeconfig: string | undefined;
  /** Namespaces to watch; empty: all namespaces. */
  readonly namespaces: readonly string[];
  /** Each watch asks the API server to end it after between this and twice this (client-go's). */
  readonly minWatchTimeoutMs: number;
  readonly leaderElection: LeaderElectionConfig;
  readonly verifier: VerifierConfig;
  /** Serves /metrics, /healthz and /readyz. */
  readonly metricsAddress: ListenAddress;
  readonly logLevel: LogLevel;
  readonly workers: number;
  readonly resyncPeriodMs: number;
  /** How long a rotation waits for its domain before it stalls (SPEC §2.2); shortened in tests. */
  readonly rotationGraceMs: number;
  /** The key that seals the tokens the controller writes (SPEC §2.3); undefined: a per-process key. */
  readonly tokenSealKeyFile: string | undefined;
  /** Overrides of the identity providers' endpoints and trust (SPEC §2.7); undefined: the cloud's. */
  readonly delivery: DeliveryConfig;
}

/** Thrown for input that cannot become a Config; the message names the flag and what was expected. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Thrown by `parseConfig` when `--help` was given: print `helpText` and exit 0. */
export class HelpRequested extends Error {
  override readonly name = 'HelpRequested';
  constructor(readonly helpText: string) {
    super('help requested');
  }
}

export const PROGRAM_NAME = 'scim-token-operator';

type FlagKind = 'string' | 'list' | 'boolean';

interface FlagSpec {
  readonly flag: string;
  readonly kind: FlagKind;
  readonly argName?: string;
  readonly description: string;
  /** Used when neither flag nor env var is set; parsed exactly like user input, so help cannot drift. */
  readonly default?: string;
  /** What --help says when there is no default value (the setting stays undefined or empty). */
  readonly defaultText?: string;
  readonly group: string;
}

const GROUP_KUBE = 'Kubernetes:';
const GROUP_LEADER = 'Leader election:';
const GROUP_VERIFY = 'Verifier (token check, SPEC §4):';
const GROUP_OPS = 'Metrics, health and logging:';
const GROUP_RECONCILE = 'Reconciling:';
const GROUP_DELIVERY = 'Delivery to Microsoft Entra ID (SPEC §2.7):';

const FLAGS = [
  {
    flag: 'kubeconfig',
    kind: 'string',
    argName: '<path>',
    description: 'kubeconfig file to use',
    defaultText: 'standard loading: KUBECONFIG, ~/.kube/config, in-cluster',
    group: GROUP_KUBE,
  },
  {
    flag: 'namespace',
    kind: 'list',
    argName: '<ns>',
    description: 'namespace to watch; repeat the flag or separate with commas for more',
    defaultText: 'all namespaces',
    group: GROUP_KUBE,
  },
  {
    flag: 'min-watch-timeout',
    kind: 'string',
    argName: '<dur>',
    description:
      'each watch asks the API server to end it after a random time between this and twice this, then resumes',
    default: '5m',
    group: GROUP_KUBE,
  },
  {
    flag: 'leader-elect',
    kind: 'boolean',
    description: 'reconcile only while holding the Lease, so several replicas never double-rotate',
    default: 'false',
    group: GROUP_LEADER,
  },
  {
    flag: 'leader-election-namespace',
    kind: 'string',
    argName: '<ns>',
    description: 'namespace of the Lease',
    defaultText: 'the namespace the operator runs in',
    group: GROUP_LEADER,
  },
  {
    flag: 'lease-duration',
    kind: 'string',
    argName: '<dur>',
    description: 'how long a Lease is valid; failover takes at most this long',
    default: '15s',
    group: GROUP_LEADER,
  },
  {
    flag: 'renew-deadline',
    kind: 'string',
    argName: '<dur>',
    description: 'the leader gives up leadership if it cannot renew within this (< lease duration)',
    default: '10s',
    group: GROUP_LEADER,
  },
  {
    flag: 'retry-period',
    kind: 'string',
    argName: '<dur>',
    description: 'interval between attempts to acquire or renew the Lease (< renew deadline)',
    default: '2s',
    group: GROUP_LEADER,
  },
  {
    flag: 'verify-addr',
    kind: 'string',
    argName: '<host:port>',
    description: 'listen address of the token verifier',
    default: ':8443',
    group: GROUP_VERIFY,
  },
  {
    flag: 'verify-tls-cert',
    kind: 'string',
    argName: '<path>',
    description: 'PEM certificate for the verifier (needs --verify-tls-key)',
    defaultText: 'a self-signed certificate generated at start',
    group: GROUP_VERIFY,
  },
  {
    flag: 'verify-tls-key',
    kind: 'string',
    argName: '<path>',
    description: 'PEM private key for the verifier (needs --verify-tls-cert)',
    group: GROUP_VERIFY,
  },
  {
    flag: 'verify-insecure',
    kind: 'boolean',
    description: 'serve the verifier over plain HTTP (sidecar or loopback only)',
    default: 'false',
    group: GROUP_VERIFY,
  },
  {
    flag: 'max-staleness',
    kind: 'string',
    argName: '<dur>',
    description:
      'the verifier reports unready (and answers 503) once its index has not been known current for this long',
    default: '2m',
    group: GROUP_VERIFY,
  },
  {
    flag: 'verify-max-connections',
    kind: 'string',
    argName: '<n>',
    description: 'open connections to the verifier beyond this are closed at once',
    default: '20000',
    group: GROUP_VERIFY,
  },
  {
    flag: 'drain-period',
    kind: 'string',
    argName: '<dur>',
    description: 'after SIGTERM the verifier fails /readyz at once and keeps answering this long (0s: none)',
    default: '5s',
    group: GROUP_VERIFY,
  },
  {
    flag: 'metrics-addr',
    kind: 'string',
    argName: '<host:port>',
    description: 'listen address of /metrics, /healthz and /readyz',
    default: ':8080',
    group: GROUP_OPS,
  },
  {
    flag: 'log-level',
    kind: 'string',
    argName: '<level>',
    description: `log level: ${LOG_LEVELS.join('|')}`,
    default: 'info',
    group: GROUP_OPS,
  },
  {
    flag: 'workers',
    kind: 'string',
    argName: '<n>',
    description: 'reconciles run in parallel per controller',
    default: '16',
    group: GROUP_RECONCILE,
  },
  {
    flag: 'resync-period',
    kind: 'string',
    argName: '<dur>',
    description: 'every object is reconciled again at least this often',
    default: '10m',
    group: GROUP_RECONCILE,
  },
  {
    flag: 'rotation-grace',
    kind: 'string',
    argName: '<dur>',
    description: 'how long a rotation waits for its domain to exist and be Ready before it stalls',
    default: '5m',
    group: GROUP_RECONCILE,
  },
  {
    flag: 'token-seal-key-file',
    kind: 'string',
    argName: '<path>',
    description:
      'file with >= 32 random bytes, readable only by the operator: seals the tokens it writes, so that a token written during a crash is adopted and one planted by anyone else is not',
    defaultText: 'a key per process: a write interrupted by a restart is issued again instead of adopted',
    group: GROUP_RECONCILE,
  },
  {
    flag: 'entra-authority-url',
    kind: 'string',
    argName: '<url>',
    description: 'https:// base URL of the Entra ID authority (token endpoint), for every cloud',
    defaultText: "the domain's cloud: https://login.microsoftonline.com (.us, chinacloudapi.cn)",
    group: GROUP_DELIVERY,
  },
  {
    flag: 'graph-url',
    kind: 'string',
    argName: '<url>',
    description: 'https:// base URL of Microsoft Graph, for every cloud',
    defaultText: "the domain's cloud: https://graph.microsoft.com (.us, chinacloudapi.cn)",
    group: GROUP_DELIVERY,
  },
  {
    flag: 'extra-ca-file',
    kind: 'string',
    argName: '<path>',
    description: 'PEM CA certificates trusted for delivery in addition to the system CAs',
    defaultText: 'the system CAs only',
    group: GROUP_DELIVERY,
  },
] as const satisfies readonly FlagSpec[];

type FlagName = (typeof FLAGS)[number]['flag'];

/** `lease-duration` → `SCIM_LEASE_DURATION`. */
export function envVarFor(flag: string): string {
  return `SCIM_${flag.toUpperCase().replaceAll('-', '_')}`;
}

/** Every flag with its env var, e.g. for docs and the chart. */
export const CONFIG_FLAGS: readonly { readonly flag: string; readonly envVar: string }[] = FLAGS.map((f) => ({
  flag: `--${f.flag}`,
  envVar: envVarFor(f.flag),
}));

/** The `--help` text, without parsing anything. */
export function configHelp(): string {
  let text = '';
  // outputHelp, unlike helpInformation, includes the text added with addHelpText.
  buildProgram((chunk) => {
    text += chunk;
  }).outputHelp();
  return text;
}

/**
 * Parses `argv` (the user's arguments, i.e. `process.argv.slice(2)`) and `env` into a frozen Config.
 * Throws ConfigError for bad input and HelpRequested for `--help`.
 */
export function parseConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Config {
  let helpText = '';
  const program = buildProgram((text) => {
    helpText += text;
  });
  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help') {
        throw new HelpRequested(helpText);
      }
      throw new ConfigError(err.message.replace(/^error: /, ''));
    }
    throw err;
  }

  const fromCli = program.opts<Record<string, string | string[] | true | undefined>>();
  const raw = (spec: FlagSpec): RawValue | undefined => {
    const cli = fromCli[camelCase(spec.flag)];
    if (cli !== undefined && program.getOptionValueSource(camelCase(spec.flag)) === 'cli') {
      // A bare boolean flag arrives as `true`; a repeated one as an array, which joins like the env var.
      const value = cli === true ? 'true' : Array.isArray(cli) ? cli.join(',') : cli;
      return { value, source: `--${spec.flag}` };
    }
    const envVar = envVarFor(spec.flag);
    const fromEnv = env[envVar];
    // An empty env var is treated as unset: manifests and shells produce them by accident.
    if (fromEnv !== undefined && fromEnv !== '') {
      return { value: fromEnv, source: `--${spec.flag} (env ${envVar})` };
    }
    if (spec.default !== undefined) return { value: spec.default, source: `--${spec.flag} (default)` };
    return undefined;
  };
  return deepFreeze(buildConfig((name) => raw(flagSpec(name)), parseMode(program.args[0])));
}

interface RawValue {
  readonly value: string;
  /** How the value is named in errors: `--flag` or `--flag (env SCIM_FLAG)`. */
  readonly source: string;
}

type RawLookup = (name: FlagName) => RawValue | undefined;

function flagSpec(name: FlagName): FlagSpec {
  const spec = (FLAGS as readonly FlagSpec[]).find((f) => f.flag === name);
  if (spec === undefined) throw new Error(`no flag --${name}`);
  return spec;
}

function buildConfig(raw: RawLookup, mode: Mode): Config {
  const optional = <T>(name: FlagName, parse: (value: string) => T): T | undefined => {
    const r = raw(name);
    return r === undefined ? undefined : convert(r.source, r.value, parse);
  };
  const required = <T>(name: FlagName, parse: (value: string) => T): T => {
    const value = optional(name, parse);
    if (value === undefined) throw new Error(`--${name} has no default value`);
    return value;
  };

  const leaseDurationMs = required('lease-duration', parseDuration);
  const renewDeadlineMs = required('renew-deadline', parseDuration);
  const retryPeriodMs = required('retry-period', parseDuration);
  if (renewDeadlineMs >= leaseDurationMs) {
    throw new ConfigError(
      `--renew-deadline: expected less than --lease-duration (${formatDuration(leaseDurationMs)}), ` +
        `got ${formatDuration(renewDeadlineMs)}`,
    );
  }
  // Without this a leader could miss every renewal attempt before its deadline passes.
  if (retryPeriodMs >= renewDeadlineMs) {
    throw new ConfigError(
      `--retry-period: expected less than --renew-deadline (${formatDuration(renewDeadlineMs)}), ` +
        `got ${formatDuration(retryPeriodMs)}`,
    );
  }

  const certFile = optional('verify-tls-cert', parseFilePath);
  const keyFile = optional('verify-tls-key', parseFilePath);
  if ((certFile === undefined) !== (keyFile === undefined)) {
    const missing = certFile === undefined ? '--verify-tls-cert' : '--verify-tls-key';
    const given = certFile === undefined ? '--verify-tls-key' : '--verify-tls-cert';
    throw new ConfigError(`${missing}: expected together with ${given}, got only ${given}`);
  }
  const insecure = required('verify-insecure', parseBoolean);
  if (insecure && certFile !== undefined) {
    throw new ConfigError(
      '--verify-insecure: expected either plain HTTP or --verify-tls-cert/--verify-tls-key, got both',
    );
  }
  const maxStalenessMs = required('max-staleness', parseDuration);
  if (maxStalenessMs < MIN_MAX_STALENESS_MS) {
    throw new ConfigError(
      `--max-staleness: expected at least ${formatDuration(MIN_MAX_STALENESS_MS)}, got ${formatDuration(maxStalenessMs)}`,
    );
  }
  const verifyAddress = required('verify-addr', parseListenAddress);
  const metricsAddress = required('metrics-addr', parseListenAddress);
  if (addressesCollide(verifyAddress, metricsAddress)) {
    throw new ConfigError(
      `--metrics-addr: expected a different port than --verify-addr, got ${formatAddress(metricsAddress)} for both`,
    );
  }

  return {
    mode,
    kubeconfig: optional('kubeconfig', parseFilePath),
    namespaces: optional('namespace', parseNamespaceList) ?? [],
    minWatchTimeoutMs: required('min-watch-timeout', parseDuration),
    leaderElection: {
      enabled: required('leader-elect', parseBoolean),
      namespace: optional('leader-election-namespace', parseNamespace),
      leaseDurationMs,
      renewDeadlineMs,
      retryPeriodMs,
    },
    verifier: {
      address: verifyAddress,
      tls: certFile !== undefined && keyFile !== undefined ? { certFile, keyFile } : undefined,
      insecure,
      maxStalenessMs,
      maxConnections: required('verify-max-connections', parseMaxConnections),
      drainPeriodMs: required('drain-period', parseDurationOrZero),
    },
    metricsAddress,
    logLevel: required('log-level', parseLogLevel),
    workers: required('workers', parseWorkers),
    resyncPeriodMs: required('resync-period', parseDuration),
    rotationGraceMs: required('rotation-grace', parseDuration),
    tokenSealKeyFile: optional('token-seal-key-file', parseFilePath),
    delivery: {
      authorityUrl: optional('entra-authority-url', parseHttpsUrl),
      graphUrl: optional('graph-url', parseHttpsUrl),
      extraCaFile: optional('extra-ca-file', parseFilePath),
    },
  };
}

/** Runs a value parser and prefixes its complaint with the flag (and env var) the value came from. */
function convert<T>(source: string, value: string, parse: (value: string) => T): T {
  try {
    return parse(value);
  } catch (err) {
    throw new ConfigError(`${source}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function parseNamespaceList(value: string): readonly string[] {
  const names = value
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  return [...new Set(names.map(parseNamespace))];
}

function parseFilePath(value: string): string {
  if (value.trim() === '') throw new Error('expected a file path, got ""');
  return value;
}

/** An https:// base URL without query or fragment; a trailing slash is dropped. */
function parseHttpsUrl(value: string): string {
  const expected = `expected an https:// URL such as https://login.microsoftonline.us, got ${JSON.stringify(value)}`;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new Error(expected);
  }
  if (url.protocol !== 'https:' || url.search !== '' || url.hash !== '' || url.username !== '')
    throw new Error(expected);
  return url.href.replace(/\/+$/, '');
}

// RFC 1123 label, as Kubernetes requires of namespace names.
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function parseNamespace(value: string): string {
  if (!NAMESPACE.test(value)) {
    throw new Error(`expected a namespace name (lowercase RFC 1123 label), got ${JSON.stringify(value)}`);
  }
  return value;
}

function parseBoolean(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new Error(`expected true or false, got ${JSON.stringify(value)}`);
}

function parseLogLevel(value: string): LogLevel {
  const v = value.trim().toLowerCase();
  const level = LOG_LEVELS.find((l) => l === v);
  if (level === undefined)
    throw new Error(`expected one of ${LOG_LEVELS.join('|')}, got ${JSON.stringify(value)}`);
  return level;
}

function parseMode(value: string | undefined): Mode {
  if (value === undefined) return 'all';
  const mode = MODES.find((m) => m === value);
  if (mode === undefined) {
    throw new ConfigError(
      `expected a command: controller or verifier (or none: both), got ${JSON.stringify(value)}`,
    );
  }
  return mode;
}

// The watchdog relists after at most three quarters of it (verifier.ts silenceTimeoutFor); below a
// couple of seconds a relist could not even finish in time.
const MIN_MAX_STALENESS_MS = 2_000;

/** A parser of whole numbers from 1 to `max`. */
function integerUpTo(max: number): (value: string) => number {
  return (value) => {
    const v = value.trim();
    const n = /^[0-9]+$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < 1 || n > max) {
      throw new Error(`expected an integer from 1 to ${max}, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

const parseMaxConnections = integerUpTo(1_000_000);

/** A duration as parseDuration reads it, or zero ("0", "0s"): no period at all. */
function parseDurationOrZero(value: string): number {
  return /^\s*0(?:ms|s|m|h)?\s*$/.test(value) ? 0 : parseDuration(value);
}

const parseWorkers = integerUpTo(1000);

// A DNS hostname such as "localhost" or "metrics.internal"; anything else must be an IP literal.
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$/;

/** Parses ":8080", "127.0.0.1:0", "[::1]:9000" or "localhost:8080" into host and port. */
export function parseListenAddress(value: string): ListenAddress {
  const expected = `expected host:port such as :8080, 127.0.0.1:8080 or [::1]:8080, got ${JSON.stringify(value)}`;
  const v = value.trim();
  const colon = v.lastIndexOf(':');
  if (colon < 0) throw new Error(expected);
  let host = v.slice(0, colon);
  const portText = v.slice(colon + 1);
  if (host.startsWith('[') && host.endsWith(']')) {
    host = host.slice(1, -1);
    if (isIP(host) !== 6) throw new Error(expected);
  } else if (host !== '' && isIP(host) !== 4 && !HOSTNAME.test(host)) {
    // Unbracketed IPv6 lands here too: in "::1:9000" the port is ambiguous.
    throw new Error(expected);
  }
  const port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new Error(`expected a port from 0 to 65535, got ${JSON.stringify(value)}`);
  }
  return { host, port };
}

const ALL_INTERFACES = new Set(['', '0.0.0.0', '::']);

// Two listeners on one port fail at start with EADDRINUSE; saying so here names the flags instead.
function addressesCollide(a: ListenAddress, b: ListenAddress): boolean {
  if (a.port === 0 || a.port !== b.port) return false;
  return a.host === b.host || ALL_INTERFACES.has(a.host) || ALL_INTERFACES.has(b.host);
}

function buildProgram(writeOut: (text: string) => void): Command {
  const program = new Command(PROGRAM_NAME)
    .description('Kubernetes operator that issues, rotates, revokes and verifies SCIM bearer tokens.')
    .exitOverride()
    .argument(
      '[command]',
      'controller (reconcile only), verifier (token checks only); none: both in one process, for local use',
    )
    .allowExcessArguments(false)
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut,
      // The error is rethrown as ConfigError, whose message carries the same text.
      writeErr: () => undefined,
      outputError: () => undefined,
      // The defaults read the TTY and NO_COLOR/FORCE_COLOR from the process; help must not vary.
      getOutHelpWidth: () => 100,
      getErrHelpWidth: () => 100,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .helpOption('-h, --help', 'show this help');
  for (const spec of FLAGS as readonly FlagSpec[]) {
    program.addOption(buildOption(spec));
  }
  program.addHelpText(
    'after',
    '\nDurations: 500ms, 15s, 2m, 1h30m. Every flag can also be set as the env var shown; a flag wins.',
  );
  return program;
}

function buildOption(spec: FlagSpec): Option {
  // `[true|false]` lets charts write the Kubernetes-style `--leader-elect=true` as well as the bare flag.
  const flags =
    spec.kind === 'boolean' ? `--${spec.flag} [true|false]` : `--${spec.flag} ${spec.argName ?? ''}`;
  // Env vars are not registered with `Option.env()`: commander would then read process.env itself.
  const defaultText = spec.default ?? spec.defaultText;
  const details = [
    ...(defaultText === undefined ? [] : [`default: ${defaultText}`]),
    `env: ${envVarFor(spec.flag)}`,
  ];
  const option = new Option(flags.trim(), `${spec.description} (${details.join('; ')})`).helpGroup(
    spec.group,
  );
  if (spec.kind === 'list') {
    option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
  }
  return option;
}

function camelCase(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
