import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from 'node:tls';
import { KubeClient } from '../kube/client.js';
import { connectionFrom } from '../kube/connection.js';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config.js';
import { createLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { generateSelfSigned } from './tls.js';
import { Verifier, indexStaleness, silenceTimeoutFor } from './verifier.js';

// An API server nobody answers on: the watches fail and back off; this file is about the listener.
// Nothing listens there: the informer never syncs, which is what these tests need.
const client = new KubeClient(connectionFrom({ server: 'https://127.0.0.1:1' }, 'test'));
const log = createLogger({ level: 'silent' });
const running: Verifier[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((v) => v.stop()));
});

function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(new X509Certificate(socket.getPeerCertificate().raw).fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

async function waitUntil(probe: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not reached in 2 s');
}

describe('Verifier', () => {
  it('listens before the index is synced, and is not ready until then', async () => {
    const config = parseConfig(['--verify-addr', '127.0.0.1:0', '--verify-insecure'], {});
    const v = new Verifier({ config, client, log, metrics: new Metrics({ defaultMetrics: false }) });
    running.push(v);
    const server = await v.start();
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(v.ready).toBe(false);
    const res = await fetch(`${server.url}/readyz`);
    expect(res.status).toBe(503);
  });

  it('serves a renewed certificate from the mounted files without a restart', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'verifier-files-'));
    const [certFile, keyFile] = [path.join(dir, 'tls.crt'), path.join(dir, 'tls.key')];
    const first = generateSelfSigned({ now: new Date() });
    writeFileSync(certFile, first.cert);
    writeFileSync(keyFile, first.key);
    const config = parseConfig(
      ['--verify-addr', '127.0.0.1:0', '--verify-tls-cert', certFile, '--verify-tls-key', keyFile],
      {},
    );
    const v = new Verifier({
      config,
      client,
      log,
      metrics: new Metrics({ defaultMetrics: false }),
      tlsRefreshMs: 50,
    });
    running.push(v);
    const { address } = await v.start();
    expect(await servedFingerprint(address.port)).toBe(first.sha256);

    const second = generateSelfSigned({ now: new Date() });
    writeFileSync(keyFile, second.key);
    writeFileSync(certFile, second.cert);
    await waitUntil(async () => (await servedFingerprint(address.port)) === second.sha256);
  });

  it('renews its self-signed certificate at half-life', async () => {
    let now = new Date();
    const config = parseConfig(['--verify-addr', '127.0.0.1:0'], {});
    const v = new Verifier({
      config,
      client,
      log,
      metrics: new Metrics({ defaultMetrics: false }),
      now: () => now,
      tlsRefreshMs: 50,
    });
    running.push(v);
    const { address } = await v.start();
    const first = await servedFingerprint(address.port);
    await new Promise((r) => setTimeout(r, 150));
    expect(await servedFingerprint(address.port)).toBe(first);
    now = new Date(now.getTime() + 4 * 24 * 3_600_000);
    await waitUntil(async () => (await servedFingerprint(address.port)) !== first);
  });
});

describe('indexStaleness', () => {
  it.each([
    { lastCurrentAt: [], staleness: undefined },
    { lastCurrentAt: [undefined], staleness: undefined },
    { lastCurrentAt: [1_000, undefined], staleness: undefined },
    { lastCurrentAt: [10_000], staleness: 0 },
    { lastCurrentAt: [9_000, 4_000], staleness: 6_000 },
    { lastCurrentAt: [11_000], staleness: 0 },
  ])(
    'is $staleness ms at 10 s when the informers were last current at $lastCurrentAt',
    ({ lastCurrentAt, staleness }) => {
      expect(indexStaleness(lastCurrentAt, 10_000)).toBe(staleness);
    },
  );

  it.each([
    { maxStalenessMs: 120_000, silenceMs: 90_000 },
    { maxStalenessMs: 30_000, silenceMs: 20_000 },
    { maxStalenessMs: 8_000, silenceMs: 4_000 },
    { maxStalenessMs: 2_000, silenceMs: 1_000 },
  ])(
    'relists after $silenceMs ms of silence for --max-staleness $maxStalenessMs ms',
    ({ maxStalenessMs, silenceMs }) => {
      expect(silenceTimeoutFor(maxStalenessMs)).toBe(silenceMs);
    },
  );
});
