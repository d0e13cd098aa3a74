#!/usr/bin/env node
// Entry point: wiring and lifetimes only — config -> logger -> clients -> what the command runs ->
// servers -> signals (SPEC §5):
// - `controller`: the shared ScimDomain informers and the controllers, leader-elected; no verify port.
// - `verifier`: ScimDomain informers and the token check; never leader-elected, reads nothing else.
// - neither (the default, for the demo and local use): both in one process, sharing one cache.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ConfigError, HelpRequested, parseConfig, type Config } from './config.js';
import { ScimTokenOperator } from './operator.js';
import { startHealthServer } from './observability/health-server.js';
import { collectGarbage } from './observability/heap.js';
import { createLogger } from './observability/logger.js';
import { Metrics, domainSamples } from './observability/metrics.js';
import { KubeClient } from './kube/client.js';
import { loadConnection } from './kube/connection.js';
import { createLeaderElector, type LeaderElector } from './kube/leader-election.js';
import { scimDomainInformers } from './kube/scim-informers.js';
import { verifierView } from './verifier/cached-domain.js';
import type { Verifier } from './verifier/verifier.js';
import { createTokenSealer, type TokenSealer } from './rules/token-seal.js';

/** The sealer of the tokens this process writes: from --token-seal-key-file, or a key of its own. */
function tokenSealer(config: Config, log: Logger): TokenSealer {
  if (config.tokenSealKeyFile === undefined) {
    log.info(
      'no --token-seal-key-file: a token write interrupted by a restart will be issued again, not adopted',
    );
    return createTokenSealer(randomBytes(32));
  }
  return createTokenSealer(readFileSync(config.tokenSealKeyFile));
}

function loadConfig(): Config {
  try {
    return parseConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof HelpRequested) {
      process.stdout.write(err.helpText);
      process.exit(0);
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`scim-token-operator: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** Test-only failpoint: SCIM_FAILPOINT=<name> kills the process with SIGKILL when <name> is reached. */
function failpointFrom(env: NodeJS.ProcessEnv): ((name: string) => void) | undefined {
  const armed = env.SCIM_FAILPOINT;
  if (!armed) return undefined;
  return (name) => {
    if (name === armed) process.kill(process.pid, 'SIGKILL');
  };
}

// Past this the process exits 1 instead of hanging; the chart's grace period is longer.
const SHUTDOWN_LIMIT_MS = 25_000;

interface Parts {
  operator: ScimTokenOperator | undefined;
  verifier: Verifier | undefined;
  /** Filled in once leader election runs; the stop handler may run before that. */
  elector: LeaderElector | undefined;
  /** false after the controllers lost leadership in a process that also verifies. */
  live: boolean;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.logLevel });
  const metrics = new Metrics();
  // Every request counted by method (the issuance benchmark's "API requests per domain", SPEC §6).
  const client = new KubeClient(await loadConnection(config.kubeconfig), {
    onRequest: (method) => metrics.recordKubeRequest(method),
    userAgent: 'scim-token-operator',
  });
  const runsControllers = config.mode !== 'verifier';
  const runsVerifier = config.mode !== 'controller';
  // Each workload loads only its own code: the verifier's TLS (node-forge) is not in a controller
  // pod's memory, the controller's schedules and delivery client are not in a verifier's.
  const verifierModule = runsVerifier ? await import('./verifier/verifier.js') : undefined;
  const controllerModule = runsControllers
    ? await import('./controllers/scimdomain/controller.js')
    : undefined;

  // One ScimDomain cache for the controllers and (in one process) the verifier, on every replica,
  // leader or not; stopped last, after everything that reads it. Where the verifier reads it, its
  // watchdog follows --max-staleness.
  const domainInformers = scimDomainInformers(
    client,
    config.namespaces,
    log,
    config.mode === 'verifier' ? 'verifier/scimdomains' : undefined,
    {
      minWatchTimeoutMs: config.minWatchTimeoutMs,
      ...(verifierModule
        ? { silenceTimeoutMs: verifierModule.silenceTimeoutFor(config.verifier.maxStalenessMs) }
        : {}),
      // The verifier alone keeps only what it reads of each domain; with the controllers, everything.
      ...(config.mode === 'verifier' ? { view: verifierView } : {}),
    },
  );
  const parts: Parts = { operator: undefined, verifier: undefined, elector: undefined, live: true };
  // Read at every scrape: one domain at a time, no array of all 10,000 per scrape.
  metrics.setDomainSource(() =>
    domainSamples(
      (function* () {
        for (const informer of domainInformers) yield* informer.values();
      })(),
    ),
  );
  // Who this process is, for Events (reportingInstance) and the Lease: the pod (POD_NAME, from the
  // chart's downward API), else the hostname. A pid says nothing: it is 1 in every container.
  const instance = process.env.POD_NAME || hostname();

  if (controllerModule) {
    const failpoint = failpointFrom(process.env);
    const controller = new controllerModule.ScimDomainController({
      config,
      client,
      log,
      metrics,
      domains: domainInformers,
      sealer: tokenSealer(config, log),
      instance,
      ...(failpoint ? { failpoint } : {}),
    });
    parts.operator = new ScimTokenOperator({
      log,
      reconcileAtStart: !config.leaderElection.enabled,
      shared: domainInformers,
      controllers: [controller],
    });
  }
  if (verifierModule) {
    parts.verifier = new verifierModule.Verifier({
      config,
      client,
      log,
      metrics,
      dnsNames: ['localhost', hostname()],
      informers: domainInformers,
    });
    await parts.verifier.start();
    const verifier = parts.verifier;
    // Only where a verifier runs: a controller-only pod exports no verifier readiness at all.
    metrics.setVerifierReadySource(() => verifier.ready);
  }
  const health = await startHealthServer({
    host: config.metricsAddress.host,
    port: config.metricsAddress.port,
    metrics,
    isReady: () => (parts.operator?.ready ?? true) && (parts.verifier?.ready ?? true),
    isLive: () => parts.live,
    log,
  });
  log.info(
    {
      mode: config.mode,
      metrics: health.address,
      cluster: client.server,
      credentials: client.connection.source,
    },
    'scim-token-operator starting',
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const drainMs = parts.verifier ? config.verifier.drainPeriodMs : 0;
    log.info({ signal, drainMs }, 'shutting down: not ready any more, finishing in-flight work');
    const force = setTimeout(() => {
      log.error(`shutdown took longer than ${SHUTDOWN_LIMIT_MS / 1000}s; exiting`);
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS + drainMs);
    force.unref();
    // Not ready first: endpoints and proxies move away while the verifier still answers.
    parts.verifier?.beginDrain();
    Promise.all([
      sleep(drainMs),
      // The Lease is released only after in-flight work is done, so no other replica starts
      // reconciling next to this one; the release hands over at once instead of after a lease.
      parts.operator?.shutdown().then(() => parts.elector?.release()),
    ])
      .then(() => parts.verifier?.stop())
      .then(() => Promise.all(domainInformers.map((i) => i.stop())))
      .then(() => health.close())
      .then(() => {
        log.info('stopped');
        process.exit(0);
      })
      .catch((err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  if (!parts.operator) {
    // The verifier alone: it starts its (shared) informers itself and is never leader-elected.
    void Promise.all(domainInformers.map((i) => i.start())).then(() => releaseStartupGarbage(log));
    return;
  }
  await parts.operator.start();
  releaseStartupGarbage(log);
  if (!config.leaderElection.enabled) {
    metrics.setLeader(true);
    return;
  }
  parts.elector = createLeaderElector({
    config: config.leaderElection,
    client,
    log,
    hostname: instance,
    onStartedLeading: () => {
      if (stopping) return;
      metrics.setLeader(true);
      parts.operator?.startReconciling();
    },
    onStoppedLeading: (reason) => onLostLeadership(reason, { config, log, metrics, parts }),
  });
  void parts.elector.run();
}

/** After the first list: see observability/heap.ts. */
function releaseStartupGarbage(log: Logger): void {
  const { beforeBytes, afterBytes, ms } = collectGarbage();
  log.info(
    {
      heapMB: Math.round(afterBytes / 1e5) / 10,
      freedMB: Math.round((beforeBytes - afterBytes) / 1e5) / 10,
      ms: Math.round(ms),
    },
    'caches filled; start-up garbage collected',
  );
}

/**
 * Another replica may already be reconciling: stop writing at once, as controller-runtime does. A
 * controller process exits; a process that also verifies stops only its controllers and keeps
 * answering token checks (losing leadership never stops a verifier), failing /healthz so that a
 * supervisor restarts it when it suits.
 */
function onLostLeadership(
  reason: string,
  { config, log, metrics, parts }: { config: Config; log: Logger; metrics: Metrics; parts: Parts },
): void {
  metrics.setLeader(false);
  if (reason === 'released') return;
  if (config.mode === 'controller' || !parts.verifier) {
    log.error({ reason }, 'lost leadership; exiting so that only one replica reconciles');
    process.exit(1);
  }
  log.error({ reason }, 'lost leadership; controllers stopped, the verifier keeps answering');
  parts.live = false;
  void parts.operator?.shutdown();
}

main().catch((err: unknown) => {
  process.stderr.write(`scim-token-operator: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
