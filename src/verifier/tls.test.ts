import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import type { TLSSocket } from 'node:tls';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { startVerifierServer, type VerifierServer } from './server.js';
import {
  SELF_SIGNED_VALIDITY_MS,
  generateSelfSigned,
  loadTlsFiles,
  selfSignedNeedsRenewal,
  type TlsMaterial,
} from './tls.js';

const now = new Date('2026-03-01T12:00:00Z');
const material = generateSelfSigned({ now, dnsNames: ['localhost', 'verifier.example'] });
// What a server presents must be valid today.
const current = generateSelfSigned({ now: new Date() });
const dir = mkdtempSync(path.join(tmpdir(), 'verifier-tls-'));
const log = createLogger({ level: 'silent' });
const servers: VerifierServer[] = [];

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** GETs /healthz trusting only `ca`, and returns the certificate the server presented. */
function fetchPinned(server: VerifierServer, ca: string, servername = 'localhost'): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const req = get(
      { host: '127.0.0.1', port: server.address.port, path: '/healthz', ca, servername, agent: false },
      (res) => {
        res.resume();
        const peer = res.socket as TLSSocket;
        resolve(new X509Certificate(peer.getPeerCertificate(true).raw));
      },
    );
    req.on('error', reject);
  });
}

describe('generateSelfSigned', () => {
  const x509 = new X509Certificate(material.cert);

  it('names localhost, the loopback addresses and the given DNS names', () => {
    expect(x509.subjectAltName?.split(', ').sort()).toEqual(
      ['DNS:localhost', 'DNS:verifier.example', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1'].sort(),
    );
    expect(x509.checkHost('localhost')).toBe('localhost');
    expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
  });

  it('is a short-lived serverAuth leaf, valid from a little before now', () => {
    expect(x509.ca).toBe(false);
    expect(x509.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(new Date(x509.validFrom).getTime()).toBeLessThanOrEqual(now.getTime());
    expect(new Date(x509.validTo).getTime() - now.getTime()).toBeLessThanOrEqual(SELF_SIGNED_VALIDITY_MS);
    expect(material.notAfter.getTime()).toBe(new Date(x509.validTo).getTime());
    expect(x509.verify(x509.publicKey)).toBe(true);
  });

  it('gets a fresh key and serial each time', () => {
    const again = generateSelfSigned({ now });
    expect(again.key).not.toBe(material.key);
    expect(new X509Certificate(again.cert).serialNumber).not.toBe(x509.serialNumber);
  });

  it('is due for renewal once half its validity has passed', () => {
    const half = new Date(now.getTime() + SELF_SIGNED_VALIDITY_MS / 2 + 60_000);
    expect(selfSignedNeedsRenewal(material, now, SELF_SIGNED_VALIDITY_MS)).toBe(false);
    expect(selfSignedNeedsRenewal(material, half, SELF_SIGNED_VALIDITY_MS)).toBe(true);
  });
});

describe('loadTlsFiles', () => {
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it('loads a matching certificate and key', async () => {
    const loaded = await loadTlsFiles(write('ok.crt', material.cert), write('ok.key', material.key));
    expect(loaded).toMatchObject({ source: 'files', sha256: material.sha256 });
  });

  it('names the flag and file for a missing file', async () => {
    await expect(loadTlsFiles(path.join(dir, 'nope.crt'), write('k', material.key))).rejects.toThrow(
      /^--verify-tls-cert: cannot read .*nope\.crt: ENOENT$/,
    );
  });

  it('refuses a key that does not match the certificate, without printing either', async () => {
    const other = generateSelfSigned({ now });
    const err = await loadTlsFiles(write('a.crt', material.cert), write('b.key', other.key)).then(
      () => 'loaded',
      (e: Error) => e.message,
    );
    expect(err).toMatch(/are not a usable certificate and key/);
    expect(err).not.toContain('PRIVATE KEY');
  });
});

/** A verifier server on a free loopback port answering "ok", closed after the file. */
async function startServer(tls: TlsMaterial | undefined): Promise<VerifierServer> {
  const server = await startVerifierServer({
    host: '127.0.0.1',
    port: 0,
    tls,
    listener: (_req, res) => res.end('ok'),
    log,
  });
  servers.push(server);
  return server;
}

describe('the verifier server over TLS', () => {
  it('serves the given certificate to a client that trusts only it', async () => {
    const server = await startServer(current);
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetchPinned(server, current.cert)).fingerprint256).toBe(current.sha256);
  });

  it('swaps in new material for new connections without a restart', async () => {
    const server = await startServer(current);
    const renewed: TlsMaterial = generateSelfSigned({ now: new Date() });
    server.setTls(renewed);
    expect((await fetchPinned(server, renewed.cert)).fingerprint256).toBe(renewed.sha256);
    await expect(fetchPinned(server, current.cert)).rejects.toThrow(/self-signed|signature|certificate/);
  });

  it('refuses to swap TLS into a plain HTTP server', async () => {
    const server = await startServer(undefined);
    expect(server.url).toMatch(/^http:\/\//);
    expect(() => server.setTls(material)).toThrow(/plain HTTP/);
  });
});
