#!/usr/bin/env node
// Entry point: wiring only — config -> logger -> clients -> controllers -> servers -> signals.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigError, HelpRequested, parseConfig, type Config } from './config.js';
import { ScimTokenOperator } from './operator.js';
import { startHealthServer } from './observability/health-server.js';
import { createLogger } from './observability/logger.js';
import { Metrics, domainSamples } from './observability/metrics.js';
import { countRequests } from './kube/request-counter.js';
import { reuseConnections } from './kube/keep-alive.js';
import { createLeaderElector, type LeaderElector } from './kube/leader-election.js';
import { scimDomainInformers } from './kube/scim-informers.js';
import { Verifier } from './verifier/verifier.js';
import { createTokenSealer, type TokenSealer } from './domain/token-seal.js';
import type { Logger } from 'pino';

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

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.logLevel });
  const kc = new KubeConfig();
  if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
  else kc.loadFromDefault();
  reuseConnections(kc);

  const metrics = new Metrics();
  countRequests(kc, (method) => metrics.recordKubeRequest(method));
  const failpoint = failpointFrom(process.env);
  // One ScimDomain cache for the controllers and the verifier. Both start these informers on every
  // replica, leader or not; they are stopped last, after the verifier.
  const domainInformers = scimDomainInformers(kc, config.namespaces, log);
  // Who this process is, for Events (reportingInstance) and the Lease: the pod (POD_NAME, from the
  // chart's downward API), else the hostname. A pid says nothing: it is 1 in every container.
  const instance = process.env.POD_NAME || hostname();
  const operator = new ScimTokenOperator({
    config,
    kc,
    log,
    metrics,
    domainInformers,
    sealer: tokenSealer(config, log),
    instance,
    ...(failpoint ? { failpoint } : {}),
  });
  // Read at every scrape: one domain at a time, no array of all 10,000 per scrape.
  metrics.setDomainSource(() => domainSamples(operator.cachedDomains()));
  // Every replica verifies tokens, leader or not (SPEC §4); it is ready once its own index is synced.
  const verifier = new Verifier({
    config,
    kc,
    log,
    metrics,
    dnsNames: ['localhost', hostname()],
    informers: domainInformers,
  });
  await verifier.start();
  metrics.setVerifierReadySource(() => verifier.ready);
  const health = await startHealthServer({
    host: config.metricsAddress.host,
    port: config.metricsAddress.port,
    metrics,
    isReady: () => operator.ready && verifier.ready,
    log,
  });
  log.info(
    { metrics: health.address, cluster: kc.getCurrentCluster()?.server },
    'scim-token-operator starting',
  );

  let stopping = false;
  // Filled in once the operator has started; the stop handler may run before that.
  const leadership: { elector?: LeaderElector } = {};
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing in-flight work');
    const force = setTimeout(() => {
      log.error('shutdown took longer than 25s; exiting');
      process.exit(1);
    }, 25_000);
    force.unref();
    operator
      .shutdown()
      // The Lease is released only after in-flight work is done, so no other replica starts
      // reconciling next to this one; the release hands over at once instead of after a lease.
      .then(() => leadership.elector?.release())
      .then(() => verifier.stop())
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

  await operator.start();
  if (!config.leaderElection.enabled) {
    metrics.setLeader(true);
    return;
  }
  const elector = createLeaderElector({
    config: config.leaderElection,
    kc,
    log,
    hostname: instance,
    onStartedLeading: () => {
      if (stopping) return;
      metrics.setLeader(true);
      operator.startReconciling();
    },
    onStoppedLeading: (reason) => {
      metrics.setLeader(false);
      if (reason === 'released') return;
      // Another replica may already be reconciling: stop writing at once, as controller-runtime does.
      log.error({ reason }, 'lost leadership; exiting so that only one replica reconciles');
      process.exit(1);
    },
  });
  leadership.elector = elector;
  void elector.run();
}

main().catch((err: unknown) => {
  process.stderr.write(`scim-token-operator: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
