// SPEC §6 "revocation propagation": with the issuance benchmark's domains loaded, R sequential
// rotations (each of another domain), timed from "the ScimTokenRotation POST returned" to the
// verifier's first 401 for the token it replaced, polling the verifier back to back on one loopback
// keep-alive connection. Baseline: the same poll loop's latency for a token that is already rejected
// (one request's round trip — the resolution and floor of the measurement).
import { performance } from 'node:perf_hooks';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { ScimTokenRotation } from '../src/api/types.js';
import { GROUP, VERSION } from '../test/integration/support/kube.js';
import { loadKc } from './lib/kube.js';
import type { BenchOperator } from './lib/operator.js';
import { round, summarize, type Summary } from './lib/stats.js';
import { VerifierClient } from './lib/verifier-client.js';

export interface PropagationOptions {
  kubeconfig: string;
  namespace: string;
  rotations: number;
  timeoutMs: number;
}

export interface PropagationResult {
  domainsLoaded: number;
  rotations: number;
  /** POST returned → first 401 of the old token (ms). */
  latencyMs: Summary;
  /** POST returned → the operator's plan time recorded in the rotation (status.rotatedAt), ms. */
  pickupMs: Summary;
  /** The POST itself (ms), for scale. */
  postMs: Summary;
  baselineMs: Summary;
  pollsPerRotation: number;
  reasons: Record<string, number>;
  target: { p99Ms: number };
  met: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runPropagation(
  o: PropagationOptions,
  operator: BenchOperator,
  domainNames: readonly string[],
  say: (s: string) => void,
): Promise<PropagationResult> {
  const kc = loadKc(o.kubeconfig, { keepAlive: true });
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const verifier = new VerifierClient(operator.verifierUrl!);
  const latencies: number[] = [];
  const pickups: number[] = [];
  const posts: number[] = [];
  const baselines: number[] = [];
  const reasons: Record<string, number> = {};
  let polls = 0;
  const deadline = performance.now() + o.timeoutMs;

  /** Polls until the verifier rejects `token`; returns when (performance.now()) and the reason. */
  const untilRejected = async (token: string) => {
    for (;;) {
      polls++;
      const r = await verifier.verify(token);
      if (r.status === 401) return { at: performance.now(), reason: r.reason ?? '' };
      if (r.status !== 200) throw new Error(`verifier answered ${r.status}`);
      if (performance.now() > deadline) throw new Error('propagation benchmark ran out of time');
    }
  };

  for (let i = 0; i < o.rotations; i++) {
    // 7 is coprime to the domain count used (1,000): every rotation targets another domain.
    const domain = domainNames[(i * 7) % domainNames.length]!;
    const secret = await core.readNamespacedSecret({ namespace: o.namespace, name: `${domain}-scim-token` });
    const old = Buffer.from(secret.data?.token ?? '', 'base64').toString('utf8');
    const before = await verifier.verify(old);
    if (before.status !== 200)
      throw new Error(`${domain}: its current token is not accepted (${before.status})`);

    const name = `${domain}-bench-${i}`;
    const postStart = performance.now();
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: o.namespace,
      plural: 'scimtokenrotations',
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'ScimTokenRotation',
        metadata: { name },
        spec: { domainRef: { name: domain }, reason: 'benchmark' },
      },
    });
    const t0 = performance.now();
    const t0Epoch = Date.now();
    posts.push(t0 - postStart);
    const rejected = await untilRejected(old);
    latencies.push(rejected.at - t0);
    reasons[rejected.reason] = (reasons[rejected.reason] ?? 0) + 1;

    // Baseline: the same loop on a token that is rejected already.
    const b0 = performance.now();
    const again = await untilRejected(old);
    baselines.push(again.at - b0);

    // Let the rotation finish (its own status write) before the next one, and note when it was planned.
    for (;;) {
      const r = (await custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: o.namespace,
        plural: 'scimtokenrotations',
        name,
      })) as ScimTokenRotation;
      if (r.status?.rotatedAt) {
        pickups.push(new Date(r.status.rotatedAt).getTime() - t0Epoch);
        break;
      }
      if (performance.now() > deadline) throw new Error('propagation benchmark ran out of time');
      await sleep(10);
    }
    await sleep(20);
    if ((i + 1) % 25 === 0) say(`propagation: ${i + 1}/${o.rotations} rotations`);
  }
  verifier.close();

  const latencyMs = summarize(latencies);
  const result: PropagationResult = {
    domainsLoaded: domainNames.length,
    rotations: o.rotations,
    latencyMs: roundSummary(latencyMs),
    pickupMs: roundSummary(summarize(pickups)),
    postMs: roundSummary(summarize(posts)),
    baselineMs: roundSummary(summarize(baselines), 3),
    // Minus the baseline's one poll per rotation.
    pollsPerRotation: round((polls - o.rotations) / o.rotations, 1),
    reasons,
    target: { p99Ms: 100 },
    met: latencyMs.p99 < 100,
  };
  say(
    `propagation: p50 ${result.latencyMs.p50} ms, p95 ${result.latencyMs.p95} ms, p99 ${result.latencyMs.p99} ms, ` +
      `max ${result.latencyMs.max} ms (baseline p99 ${result.baselineMs.p99} ms)`,
  );
  return result;
}

function roundSummary(s: Summary, digits = 1): Summary {
  return {
    n: s.n,
    p50: round(s.p50, digits),
    p95: round(s.p95, digits),
    p99: round(s.p99, digits),
    max: round(s.max, digits),
    min: round(s.min, digits),
    mean: round(s.mean, digits),
  };
}
