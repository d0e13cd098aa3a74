// SPEC §6 "memory (RSS) and start-up time (start → ready) with 10,000 domains ... for the verifier",
// and the idle-connection figure of issue #13: the verifier workload alone (`scim-token-operator
// verifier`, the built entry point) against 10,000 ScimDomains whose status carries a token hash.
//
//   npm run bench:verifier-only                          # own control plane in .cluster-bench/
//   npm run bench:verifier-only -- --kubeconfig .cluster/kubeconfig --domains 10000
//
// The domains' status is written directly (the controller is not what is measured; the issuance
// benchmark measures it), with real token hashes, so the index holds 10,000 tokens. Then, `--restarts`
// times: spawn → first 200 of /readyz, RSS at ready and after 10 s; then `--connections` idle TCP
// connections are opened to the verifier and held, RSS is read again, and a valid token check is
// timed over a fresh connection while they are open. Baseline in the same run: the verifier watching
// an empty namespace. Writes bench/results/<timestamp>-verifier-only.json and .md; always exits 0
// unless it could not run.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { ScimDomain } from '../src/api/types.js';
import { generateToken } from '../src/rules/token.js';
import { scimDomainFixture } from '../test/support/verifier-fixtures.js';
import { GROUP, VERSION } from '../test/integration/support/kube.js';
import { ROOT, benchCluster, createNamespace, deleteNamespace } from './lib/cluster.js';
import { createDomains, loadKc, pool } from './lib/kube.js';
import { machine } from './lib/machine.js';
import { BenchOperator, buildOperator } from './lib/operator.js';
import { median, round } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    domains: { type: 'string', default: '10000' },
    connections: { type: 'string', default: '10000' },
    restarts: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '32' },
  },
});
const DOMAINS = Number(args.domains);
const CONNECTIONS = Number(args.connections);
const RESTARTS = Number(args.restarts);
const CONCURRENCY = Number(args.concurrency);

interface Run {
  readyMs: number;
  rssAtReadyMB: number;
  rssSettledMB: number;
  rssWithIdleMB: number;
  idleOpened: number;
  validCheckMs: number;
  validCheckStatus: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes each domain's status: Ready, with a real token's hash (the token itself is kept here). */
async function issueInStatus(
  kubeconfig: string,
  namespace: string,
  names: readonly string[],
): Promise<string[]> {
  const custom = loadKc(kubeconfig, { keepAlive: true }).makeApiClient(CustomObjectsApi);
  const tokens = names.map(() => generateToken((n) => randomBytes(n)));
  await pool(names, CONCURRENCY, async (name, i) => {
    const current = (await custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: 'scimdomains',
      name,
    })) as ScimDomain;
    const status = scimDomainFixture({ name, namespace, token: tokens[i]! }).status;
    await custom.replaceNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: 'scimdomains',
      name,
      body: { ...current, status },
    });
  });
  return tokens;
}

function openIdle(port: number, count: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  return pool(
    Array.from({ length: count }, (_, i) => i),
    200,
    () =>
      new Promise<void>((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        s.on('error', () => resolve());
        s.once('connect', () => {
          sockets.push(s);
          resolve();
        });
      }),
  ).then(() => sockets);
}

async function timedCheck(url: string, token: string): Promise<{ ms: number; status: number }> {
  const started = performance.now();
  const res = await fetch(`${url}/v1/verify`, {
    headers: { Authorization: `Bearer ${token}`, Connection: 'close' },
  });
  await res.arrayBuffer();
  return { ms: performance.now() - started, status: res.status };
}

async function measure(kubeconfig: string, namespace: string, label: string, token?: string): Promise<Run> {
  const op = new BenchOperator({
    kubeconfig,
    namespaces: [namespace],
    logFile: path.join(ROOT, 'bench/results', `verifier-only-${label}.log`),
    args: ['verifier'],
  });
  try {
    const readyMs = await op.waitReady();
    const atReady = op.memory().rssMB;
    await sleep(10_000);
    const settled = op.memory().rssMB;
    const port = Number(new URL(op.verifierUrl!).port);
    const idle = token ? await openIdle(port, CONNECTIONS) : [];
    await sleep(2_000);
    const withIdle = op.memory().rssMB;
    const check = token ? await timedCheck(op.verifierUrl!, token) : { ms: NaN, status: 0 };
    for (const s of idle) s.destroy();
    return {
      readyMs: round(readyMs, 0),
      rssAtReadyMB: round(atReady),
      rssSettledMB: round(settled),
      rssWithIdleMB: round(withIdle),
      idleOpened: idle.length,
      validCheckMs: round(check.ms, 1),
      validCheckStatus: check.status,
    };
  } finally {
    await op.stop();
  }
}

async function main(): Promise<void> {
  const cluster = await benchCluster(args.kubeconfig);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const ns = `vonly-${stamp.slice(11, 19).toLowerCase()}`;
  const empty = `${ns}-empty`;
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  try {
    buildOperator();
    await createNamespace(cluster.kubeconfig, ns);
    await createNamespace(cluster.kubeconfig, empty);
    const names = Array.from({ length: DOMAINS }, (_, i) => `vd-${i}`);
    const kc = loadKc(cluster.kubeconfig, { keepAlive: true });
    process.stdout.write(`creating ${DOMAINS} ScimDomains and writing their status…\n`);
    const t0 = performance.now();
    await createDomains(kc, ns, names, CONCURRENCY);
    const tokens = await issueInStatus(cluster.kubeconfig, ns, names);
    process.stdout.write(`  done in ${round((performance.now() - t0) / 1000)} s\n`);

    const baseline = await measure(cluster.kubeconfig, empty, 'empty');
    const runs: Run[] = [];
    for (let i = 0; i < RESTARTS; i++) {
      const run = await measure(cluster.kubeconfig, ns, `run${i}`, tokens[(i * 7919) % tokens.length]);
      process.stdout.write(`  run ${i + 1}: ${JSON.stringify(run)}\n`);
      runs.push(run);
    }
    const result = {
      when: new Date().toISOString(),
      machine: machine(cluster.kubernetes),
      cpus: os.cpus().length,
      domains: DOMAINS,
      idleConnections: CONNECTIONS,
      baselineEmpty: baseline,
      runs,
      median: {
        readyMs: median(runs.map((r) => r.readyMs)),
        rssAtReadyMB: median(runs.map((r) => r.rssAtReadyMB)),
        rssSettledMB: median(runs.map((r) => r.rssSettledMB)),
        rssWithIdleMB: median(runs.map((r) => r.rssWithIdleMB)),
        validCheckMs: median(runs.map((r) => r.validCheckMs)),
      },
    };
    const base = path.join(ROOT, 'bench/results', `${stamp}-verifier-only`);
    writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
    const m = result.median;
    const md = [
      `# Verifier workload alone, ${DOMAINS} ScimDomains (${result.when})`,
      '',
      '| figure | median | empty namespace |',
      '| --- | --- | --- |',
      `| start → ready | ${m.readyMs} ms | ${baseline.readyMs} ms |`,
      `| RSS at ready | ${m.rssAtReadyMB} MB | ${baseline.rssAtReadyMB} MB |`,
      `| RSS 10 s later | ${m.rssSettledMB} MB | ${baseline.rssSettledMB} MB |`,
      `| RSS with ${CONNECTIONS} idle connections | ${m.rssWithIdleMB} MB | — |`,
      `| a valid check while they are open | ${m.validCheckMs} ms (status ${runs[0]?.validCheckStatus}) | — |`,
      '',
    ].join('\n');
    writeFileSync(`${base}.md`, md);
    process.stdout.write(`\n${md}\nwritten to ${base}.json and .md\n`);
  } finally {
    await deleteNamespace(cluster.kubeconfig, ns);
    await deleteNamespace(cluster.kubeconfig, empty);
    cluster.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
