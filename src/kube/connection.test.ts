import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  NeedsFullClient,
  connectionFrom,
  credentialsFromKubeconfig,
  inClusterCredentials,
  loadConnection,
} from './connection.js';

function kubeconfig(user: object, cluster: object = { server: 'https://api.example:6443' }): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'ctx',
    contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
    clusters: [{ name: 'c', cluster }],
    users: [{ name: 'u', user }],
  });
}

const tmp = () => mkdtempSync(path.join(tmpdir(), 'connection-'));
/** Writes `content` to `name` in `dir`; returns its path. */
function fileIn(dir: string, name: string, content: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

describe('credentialsFromKubeconfig', () => {
  it('reads inline certificate data and a CA, and trims the server', () => {
    const creds = credentialsFromKubeconfig(
      kubeconfig(
        {
          'client-certificate-data': Buffer.from('CERT').toString('base64'),
          'client-key-data': Buffer.from('KEY').toString('base64'),
        },
        {
          server: 'https://api.example:6443/',
          'certificate-authority-data': Buffer.from('CA').toString('base64'),
        },
      ),
      '/k/config',
    );
    expect(creds.server).toBe('https://api.example:6443');
    expect(creds.ca?.data?.toString()).toBe('CA');
    expect(creds.cert?.data?.toString()).toBe('CERT');
    expect(creds.key?.data?.toString()).toBe('KEY');
  });

  it('takes relative file paths from the kubeconfig folder, as kubectl does', () => {
    const creds = credentialsFromKubeconfig(
      kubeconfig(
        { 'client-certificate': 'pki/admin.crt', 'client-key': '/abs/admin.key', tokenFile: 'token' },
        { server: 'https://x', 'certificate-authority': 'pki/ca.crt' },
      ),
      '/etc/kube/config',
    );
    expect(creds.ca?.file).toBe('/etc/kube/pki/ca.crt');
    expect(creds.cert?.file).toBe('/etc/kube/pki/admin.crt');
    expect(creds.key?.file).toBe('/abs/admin.key');
    expect(creds.token?.file).toBe('/etc/kube/token');
  });

  it.each([
    ['an exec plugin', { exec: { command: 'aws' } }, {}],
    ['an auth-provider', { 'auth-provider': { name: 'oidc' } }, {}],
    ['impersonation', { as: 'someone' }, {}],
    ['a proxy', {}, { 'proxy-url': 'http://proxy:3128' }],
  ])('hands %s to client-node', (_what, user, cluster) => {
    expect(() =>
      credentialsFromKubeconfig(kubeconfig(user, { server: 'https://x', ...cluster }), '/k'),
    ).toThrow(NeedsFullClient);
  });

  it.each([
    ['no current-context', JSON.stringify({ contexts: [] }), /no current-context/],
    [
      'a context that does not exist',
      JSON.stringify({ 'current-context': 'x', contexts: [] }),
      /context "x" not found/,
    ],
    ['a cluster without a server', kubeconfig({}, {}), /has no cluster server/],
  ])('refuses a kubeconfig with %s, naming the file', (_what, text, message) => {
    expect(() => credentialsFromKubeconfig(text, '/k/config')).toThrow(message);
  });
});

describe('inClusterCredentials', () => {
  it('uses the service host and port, and the ServiceAccount files', () => {
    const creds = inClusterCredentials(
      { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
      '/sa',
    );
    expect(creds).toEqual({
      server: 'https://10.96.0.1:443',
      ca: { file: '/sa/ca.crt' },
      token: { file: '/sa/token' },
    });
  });

  it('brackets an IPv6 service host', () => {
    expect(
      inClusterCredentials({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }).server,
    ).toBe('https://[fd00::1]:443');
  });

  it('says it is not in a cluster without the environment', () => {
    expect(() => inClusterCredentials({})).toThrow(/KUBERNETES_SERVICE_HOST/);
  });
});

describe('connectionFrom', () => {
  it('sends a bearer token, re-reading its file once it is older than a minute', async () => {
    const dir = tmp();
    const tokenFile = fileIn(dir, 'token', 'first\n');
    let now = 0;
    const conn = connectionFrom({ server: 'https://x', token: { file: tokenFile } }, 'test', () => now);
    expect((await conn.auth()).headers.authorization).toBe('Bearer first');
    writeFileSync(tokenFile, 'second');
    now = 59_000;
    expect((await conn.auth()).headers.authorization).toBe('Bearer first');
    now = 61_000;
    expect((await conn.auth()).headers.authorization).toBe('Bearer second');
  });

  it('keeps one keep-alive agent until the TLS material changes', async () => {
    const dir = tmp();
    const caFile = fileIn(dir, 'ca.crt', 'CA-1');
    let now = 0;
    const conn = connectionFrom({ server: 'https://x', ca: { file: caFile } }, 'test', () => now);
    const a = (await conn.auth()).agent;
    expect(a).toBeInstanceOf(HttpsAgent);
    expect((a as HttpsAgent).options.keepAlive).toBe(true);
    expect((await conn.auth()).agent).toBe(a);
    writeFileSync(caFile, 'CA-2');
    now = 120_000;
    expect((await conn.auth()).agent).not.toBe(a);
  });

  it('uses basic auth only when there is no token, and never a header without credentials', async () => {
    const basic = connectionFrom({ server: 'https://x', basic: { username: 'u', password: 'p' } }, 't');
    expect((await basic.auth()).headers.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    expect((await connectionFrom({ server: 'https://x' }, 't').auth()).headers).toEqual({});
  });
});

describe('loadConnection', () => {
  it('reads --kubeconfig itself when it can', async () => {
    const dir = tmp();
    const file = fileIn(dir, 'config', kubeconfig({ token: 'abc' }));
    const conn = await loadConnection(file, {});
    expect(conn.server).toBe('https://api.example:6443');
    expect(conn.source).toBe(file);
    expect((await conn.auth()).headers.authorization).toBe('Bearer abc');
  });

  it('runs an exec plugin through client-node, loaded only for it', async () => {
    const dir = tmp();
    const plugin = path.join(dir, 'plugin.sh');
    writeFileSync(
      plugin,
      `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-plugin"}}'\n`,
    );
    chmodSync(plugin, 0o755);
    const file = path.join(dir, 'config');
    writeFileSync(
      file,
      kubeconfig({
        exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never' },
      }),
    );
    const conn = await loadConnection(file, {});
    expect(conn.source).toMatch(/client-node/);
    expect((await conn.auth()).headers.authorization).toBe('Bearer from-plugin');
  });

  it('takes KUBECONFIG, then the pod ServiceAccount when there is no kubeconfig at all', async () => {
    const dir = tmp();
    const file = fileIn(dir, 'config', kubeconfig({ token: 'env' }));
    expect((await loadConnection(undefined, { KUBECONFIG: file, HOME: dir })).source).toBe(file);
    const inCluster = await loadConnection(undefined, {
      HOME: dir,
      KUBERNETES_SERVICE_HOST: '10.0.0.1',
      KUBERNETES_SERVICE_PORT: '443',
    });
    expect(inCluster.server).toBe('https://10.0.0.1:443');
    expect(inCluster.source).toBe('in-cluster ServiceAccount');
  });
});
