import { afterEach, describe, it, expect, vi } from 'vitest';
import {
  CONFIG_FLAGS,
  ConfigError,
  HelpRequested,
  configHelp,
  envVarFor,
  formatDuration,
  parseConfig,
  parseDuration,
  parseListenAddress,
} from './config.js';
import type { Config } from './config.js';

const NO_ENV: Record<string, string | undefined> = {};

function errorOf(argv: string[], env: Record<string, string | undefined> = NO_ENV): Error {
  try {
    parseConfig(argv, env);
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error(`threw a non-Error: ${String(err)}`);
  }
  throw new Error(`parseConfig(${JSON.stringify(argv)}) did not throw`);
}

describe('parseConfig defaults', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('yields the documented defaults when given no flags and no env', () => {
    expect(parseConfig([], NO_ENV)).toEqual<Config>({
      mode: 'all',
      kubeconfig: undefined,
      namespaces: [],
      minWatchTimeoutMs: 300_000,
      leaderElection: {
        enabled: false,
        namespace: undefined,
        leaseDurationMs: 15_000,
        renewDeadlineMs: 10_000,
        retryPeriodMs: 2_000,
      },
      verifier: {
        address: { host: '', port: 8443 },
        tls: undefined,
        insecure: false,
        maxStalenessMs: 120_000,
        maxConnections: 20_000,
        drainPeriodMs: 5_000,
      },
      metricsAddress: { host: '', port: 8080 },
      logLevel: 'info',
      workers: 16,
      resyncPeriodMs: 600_000,
      rotationGraceMs: 300_000,
      tokenSealKeyFile: undefined,
      delivery: { authorityUrl: undefined, graphUrl: undefined, extraCaFile: undefined },
    });
  });

  it('returns a deeply frozen object so no component can change configuration after start-up', () => {
    const config = parseConfig(['--namespace', 'a'], NO_ENV);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.namespaces)).toBe(true);
    expect(Object.isFrozen(config.leaderElection)).toBe(true);
    expect(Object.isFrozen(config.verifier.address)).toBe(true);
  });

  it('reads only the env it is given, never process.env', () => {
    vi.stubEnv('SCIM_WORKERS', '7');
    vi.stubEnv('SCIM_LEADER_ELECT', 'true');
    const config = parseConfig([], NO_ENV);
    expect(config.workers).toBe(16);
    expect(config.leaderElection.enabled).toBe(false);
  });

  it('ignores unrelated and empty env vars', () => {
    expect(parseConfig([], { HOME: '/root', SCIM_WORKERS: '', SCIM_NAMESPACE: '' })).toEqual(
      parseConfig([], NO_ENV),
    );
  });
});

describe('the command', () => {
  it.each([
    { argv: [], mode: 'all' },
    { argv: ['controller'], mode: 'controller' },
    { argv: ['verifier', '--namespace', 'a'], mode: 'verifier' },
    { argv: ['--namespace', 'a', 'verifier'], mode: 'verifier' },
  ])('runs $mode for $argv', ({ argv, mode }) => {
    expect(parseConfig(argv, NO_ENV).mode).toBe(mode);
  });

  it.each([
    { argv: ['verify'], message: /expected a command: controller or verifier.*"verify"/ },
    { argv: ['controller', 'verifier'], message: /too many arguments/ },
  ])('refuses $argv', ({ argv, message }) => {
    expect(errorOf(argv)).toBeInstanceOf(ConfigError);
    expect(errorOf(argv).message).toMatch(message);
  });

  it.each([
    { flag: 'max-staleness', value: '1s', message: /--max-staleness: expected at least 2s, got 1s/ },
    { flag: 'verify-max-connections', value: '0', message: /--verify-max-connections: expected an integer/ },
    { flag: 'drain-period', value: '-1s', message: /--drain-period: expected a duration/ },
  ])('refuses --$flag=$value', ({ flag, value, message }) => {
    expect(errorOf([`--${flag}=${value}`]).message).toMatch(message);
  });
});

describe('parseConfig with one setting', () => {
  // Each row is tried as a flag and as its env var: both must produce the same Config field.
  it.each([
    {
      flag: 'kubeconfig',
      value: '/etc/kube/config',
      pick: (c: Config) => c.kubeconfig,
      want: '/etc/kube/config',
    },
    { flag: 'namespace', value: 'team-a', pick: (c: Config) => c.namespaces, want: ['team-a'] },
    { flag: 'namespace', value: 'a,b, c', pick: (c: Config) => c.namespaces, want: ['a', 'b', 'c'] },
    { flag: 'leader-elect', value: 'true', pick: (c: Config) => c.leaderElection.enabled, want: true },
    { flag: 'leader-elect', value: 'FALSE', pick: (c: Config) => c.leaderElection.enabled, want: false },
    {
      flag: 'leader-election-namespace',
      value: 'scim-system',
      pick: (c: Config) => c.leaderElection.namespace,
      want: 'scim-system',
    },
    {
      flag: 'lease-duration',
      value: '30s',
      pick: (c: Config) => c.leaderElection.leaseDurationMs,
      want: 30_000,
    },
    {
      flag: 'renew-deadline',
      value: '5s',
      pick: (c: Config) => c.leaderElection.renewDeadlineMs,
      want: 5_000,
    },
    { flag: 'retry-period', value: '500ms', pick: (c: Config) => c.leaderElection.retryPeriodMs, want: 500 },
    {
      flag: 'verify-addr',
      value: '127.0.0.1:0',
      pick: (c: Config) => c.verifier.address,
      want: { host: '127.0.0.1', port: 0 },
    },
    { flag: 'verify-insecure', value: 'true', pick: (c: Config) => c.verifier.insecure, want: true },
    {
      flag: 'metrics-addr',
      value: '[::1]:9000',
      pick: (c: Config) => c.metricsAddress,
      want: { host: '::1', port: 9000 },
    },
    { flag: 'log-level', value: 'debug', pick: (c: Config) => c.logLevel, want: 'debug' },
    { flag: 'log-level', value: 'WARN', pick: (c: Config) => c.logLevel, want: 'warn' },
    { flag: 'workers', value: '8', pick: (c: Config) => c.workers, want: 8 },
    { flag: 'resync-period', value: '1h30m', pick: (c: Config) => c.resyncPeriodMs, want: 5_400_000 },
    { flag: 'rotation-grace', value: '2s', pick: (c: Config) => c.rotationGraceMs, want: 2_000 },
    {
      flag: 'entra-authority-url',
      value: 'https://login.microsoftonline.us/',
      pick: (c: Config) => c.delivery.authorityUrl,
      want: 'https://login.microsoftonline.us',
    },
    {
      flag: 'graph-url',
      value: 'https://127.0.0.1:8443',
      pick: (c: Config) => c.delivery.graphUrl,
      want: 'https://127.0.0.1:8443',
    },
    {
      flag: 'extra-ca-file',
      value: '/etc/ssl/extra.pem',
      pick: (c: Config) => c.delivery.extraCaFile,
      want: '/etc/ssl/extra.pem',
    },
    { flag: 'min-watch-timeout', value: '5s', pick: (c: Config) => c.minWatchTimeoutMs, want: 5_000 },
    { flag: 'max-staleness', value: '30s', pick: (c: Config) => c.verifier.maxStalenessMs, want: 30_000 },
    {
      flag: 'verify-max-connections',
      value: '500',
      pick: (c: Config) => c.verifier.maxConnections,
      want: 500,
    },
    { flag: 'drain-period', value: '15s', pick: (c: Config) => c.verifier.drainPeriodMs, want: 15_000 },
    { flag: 'drain-period', value: '0s', pick: (c: Config) => c.verifier.drainPeriodMs, want: 0 },
  ])('reads --$flag=$value from the flag and from its env var alike', ({ flag, value, pick, want }) => {
    expect(pick(parseConfig([`--${flag}`, value], NO_ENV))).toEqual(want);
    expect(pick(parseConfig([`--${flag}=${value}`], NO_ENV))).toEqual(want);
    expect(pick(parseConfig([], { [envVarFor(flag)]: value }))).toEqual(want);
  });

  it.each([
    { argv: ['--leader-elect'], want: true },
    { argv: ['--leader-elect=false'], want: false },
    { argv: ['--leader-elect', '--workers', '2'], want: true },
  ])('treats $argv as leader election $want', ({ argv, want }) => {
    expect(parseConfig(argv, NO_ENV).leaderElection.enabled).toBe(want);
  });

  it('collects a repeated --namespace in order and drops duplicates', () => {
    const config = parseConfig(['--namespace', 'b', '--namespace', 'a', '--namespace=b,c'], NO_ENV);
    expect(config.namespaces).toEqual(['b', 'a', 'c']);
  });

  it('uses TLS files only when both the certificate and the key are given', () => {
    const config = parseConfig(
      ['--verify-tls-cert', '/tls/tls.crt', '--verify-tls-key', '/tls/tls.key'],
      NO_ENV,
    );
    expect(config.verifier.tls).toEqual({ certFile: '/tls/tls.crt', keyFile: '/tls/tls.key' });
  });
});

describe('parseConfig precedence', () => {
  it.each([
    {
      name: 'a value flag',
      argv: ['--workers', '2'],
      env: { SCIM_WORKERS: '9' },
      pick: (c: Config) => c.workers,
      want: 2,
    },
    {
      name: 'a boolean flag turned off',
      argv: ['--leader-elect=false'],
      env: { SCIM_LEADER_ELECT: 'true' },
      pick: (c: Config) => c.leaderElection.enabled,
      want: false,
    },
    {
      name: 'a repeated flag',
      argv: ['--namespace', 'x'],
      env: { SCIM_NAMESPACE: 'a,b' },
      pick: (c: Config) => c.namespaces,
      want: ['x'],
    },
  ])('lets $name win over the env var', ({ argv, env, pick, want }) => {
    expect(pick(parseConfig(argv, env))).toEqual(want);
  });

  it('uses the env var when the flag is absent', () => {
    expect(parseConfig(['--workers', '2'], { SCIM_LOG_LEVEL: 'error' }).logLevel).toBe('error');
  });
});

describe('parseConfig rejections', () => {
  it.each([
    {
      argv: ['--lease-duration', 'abc'],
      message: '--lease-duration: expected a duration such as 15s, got "abc"',
    },
    {
      argv: ['--resync-period', '15'],
      message: '--resync-period: expected a duration such as 15s, got "15"',
    },
    {
      argv: ['--rotation-grace', '0s'],
      message: '--rotation-grace: expected a duration greater than 0, got "0s"',
    },
    {
      argv: ['--retry-period', '-1s'],
      message: '--retry-period: expected a duration such as 15s, got "-1s"',
    },
    {
      argv: ['--renew-deadline', '15s'],
      message: '--renew-deadline: expected less than --lease-duration (15s), got 15s',
    },
    {
      argv: ['--lease-duration', '5s'],
      message: '--renew-deadline: expected less than --lease-duration (5s), got 10s',
    },
    {
      argv: ['--retry-period', '10s'],
      message: '--retry-period: expected less than --renew-deadline (10s), got 10s',
    },
    { argv: ['--metrics-addr', '8080'], message: '--metrics-addr: expected host:port such as :8080' },
    {
      argv: ['--verify-addr', ':99999'],
      message: '--verify-addr: expected a port from 0 to 65535, got ":99999"',
    },
    { argv: ['--verify-addr', '::1:9000'], message: '--verify-addr: expected host:port' },
    {
      argv: ['--metrics-addr', ':8443'],
      message: '--metrics-addr: expected a different port than --verify-addr, got :8443 for both',
    },
    {
      argv: ['--log-level', 'verbose'],
      message: '--log-level: expected one of trace|debug|info|warn|error|fatal',
    },
    { argv: ['--workers', '0'], message: '--workers: expected an integer from 1 to 1000, got "0"' },
    { argv: ['--workers', '2.5'], message: '--workers: expected an integer from 1 to 1000, got "2.5"' },
    { argv: ['--leader-elect=yes'], message: '--leader-elect: expected true or false, got "yes"' },
    { argv: ['--namespace', 'Team_A'], message: '--namespace: expected a namespace name' },
    {
      argv: ['--leader-election-namespace', 'a.b'],
      message: '--leader-election-namespace: expected a namespace',
    },
    { argv: ['--kubeconfig', ''], message: '--kubeconfig: expected a file path, got ""' },
    {
      argv: ['--verify-tls-cert', '/c'],
      message: '--verify-tls-key: expected together with --verify-tls-cert',
    },
    {
      argv: ['--verify-tls-key', '/k'],
      message: '--verify-tls-cert: expected together with --verify-tls-key',
    },
    {
      argv: ['--verify-insecure', '--verify-tls-cert', '/c', '--verify-tls-key', '/k'],
      message:
        '--verify-insecure: expected either plain HTTP or --verify-tls-cert/--verify-tls-key, got both',
    },
    { argv: ['--graph-url', 'http://graph.example'], message: '--graph-url: expected an https:// URL' },
    {
      argv: ['--entra-authority-url', 'https://login.example/?x=1'],
      message: '--entra-authority-url: expected an https:// URL',
    },
    {
      argv: ['--entra-authority-url', 'login.example'],
      message: '--entra-authority-url: expected an https://',
    },
    { argv: ['--workers'], message: "option '--workers <n>' argument missing" },
    { argv: ['--no-such-flag'], message: "unknown option '--no-such-flag'" },
    { argv: ['run'], message: 'expected a command: controller or verifier' },
  ])('rejects $argv with a message naming the flag and what it expects', ({ argv, message }) => {
    const err = errorOf(argv);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain(message);
  });

  it.each([
    {
      env: { SCIM_LEASE_DURATION: 'soon' },
      message: '--lease-duration (env SCIM_LEASE_DURATION): expected a duration',
    },
    {
      env: { SCIM_LEADER_ELECT: '1' },
      message: '--leader-elect (env SCIM_LEADER_ELECT): expected true or false',
    },
    {
      env: { SCIM_NAMESPACE: 'a,B' },
      message: '--namespace (env SCIM_NAMESPACE): expected a namespace name',
    },
  ])('names the env var when a bad value came from $env', ({ env, message }) => {
    expect(errorOf([], env).message).toContain(message);
  });

  it('does not consult a bad env var that a flag overrides', () => {
    expect(parseConfig(['--workers', '3'], { SCIM_WORKERS: 'many' }).workers).toBe(3);
  });
});

describe('parseConfig --help', () => {
  it.each([['--help'], ['-h']])('answers %s with HelpRequested carrying the help text', (flag) => {
    const err = errorOf([flag]);
    expect(err).toBeInstanceOf(HelpRequested);
    expect((err as HelpRequested).helpText).toBe(configHelp());
  });

  it.each(CONFIG_FLAGS)('lists $flag together with its env var $envVar', ({ flag, envVar }) => {
    const help = configHelp();
    expect(help).toContain(flag);
    // Help wraps at 100 columns; joining lines keeps "env: SCIM_X" findable even when it wraps.
    expect(help.replace(/\s+/g, ' ')).toContain(`env: ${envVar}`);
  });

  it('covers every flag of SPEC §5 and the brief', () => {
    expect(CONFIG_FLAGS.map((f) => f.flag)).toEqual(
      expect.arrayContaining([
        '--kubeconfig',
        '--namespace',
        '--leader-elect',
        '--verify-addr',
        '--verify-tls-cert',
        '--verify-tls-key',
        '--verify-insecure',
        '--metrics-addr',
        '--log-level',
        '--lease-duration',
        '--renew-deadline',
        '--retry-period',
        '--leader-election-namespace',
        '--workers',
        '--resync-period',
        '--rotation-grace',
      ]),
    );
  });
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['15s', 15_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1.5s', 1_500],
    [' 10s ', 10_000],
  ])('reads %j as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '15', 's', '15 s', '1d', '-5s', '0ms', '25h', 'abc'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/expected a duration/);
  });

  it.each([
    [500, '500ms'],
    [15_000, '15s'],
    [90_000, '1m30s'],
    [3_600_500, '1h500ms'],
  ])('formats %i ms as %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('parseListenAddress', () => {
  it.each([
    [':8080', { host: '', port: 8080 }],
    ['0.0.0.0:8080', { host: '0.0.0.0', port: 8080 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['[::1]:9000', { host: '::1', port: 9000 }],
    ['[::]:443', { host: '::', port: 443 }],
    ['localhost:65535', { host: 'localhost', port: 65535 }],
  ])('reads %j as %o', (text, address) => {
    expect(parseListenAddress(text)).toEqual(address);
  });

  it.each([
    '8080',
    ':',
    ':http',
    ':-1',
    ':65536',
    '::1:9000',
    '[::1:9000',
    '[127.0.0.1]:80',
    'a b:80',
    'host:80:',
  ])('rejects %j', (text) => {
    expect(() => parseListenAddress(text)).toThrow(/expected/);
  });
});
