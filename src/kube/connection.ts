// How the operator reaches the API server: the server URL, a keep-alive agent that carries the TLS
// material, and the Authorization header — loaded from a kubeconfig or the pod's ServiceAccount.
//
// Why not @kubernetes/client-node's KubeConfig: importing it loads every generated API and model of
// the client (measured: 77 MB of RSS and 0.5 s before the first line of ours runs), which is half of
// the controller's memory budget and more than the verifier's data (docs/benchmarks.md). The
// operator makes a handful of plain JSON requests; this module and kube/client.ts are what it needs.
//
// What is read here: a cluster's server, certificate-authority(-data), insecure-skip-tls-verify and
// tls-server-name; a user's client-certificate(-data)/client-key(-data), token, tokenFile and
// username/password; in-cluster, the ServiceAccount token and CA (kubelet rotates the token file:
// every file is read again when older than a minute, as client-go does). A kubeconfig that needs
// more — an exec or auth-provider plugin (EKS, GKE, OIDC logins), a proxy-url, several files in
// KUBECONFIG — is handed to client-node's KubeConfig, loaded only then, so every setup kubectl
// accepts still works; only the ones that need it pay for it.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import { homedir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';

/** What one request needs: the agent (TLS material, kept-alive sockets) and the headers to add. */
export interface RequestAuth {
  agent: HttpAgent;
  headers: Record<string, string>;
}

export interface KubeConnection {
  /** The API server's base URL, e.g. `https://10.96.0.1:443`. */
  readonly server: string;
  /** Where the credentials came from, for the start-up log line (never a credential). */
  readonly source: string;
  /** The agent and headers of the next request; files are re-read when older than a minute. */
  auth(): Promise<RequestAuth>;
}

/** A kubeconfig this module cannot serve by itself (an exec plugin, a proxy): client-node's turn. */
export class NeedsFullClient extends Error {
  override name = 'NeedsFullClient';
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
// client-go re-reads a token file at most once a minute; certificates the same way here.
const FILE_REFRESH_MS = 60_000;

type Material = string | Buffer;

/** A value given inline (`…-data`, base64) or as a file read again when older than a minute. */
interface Source {
  data?: Buffer;
  file?: string;
}

export interface Credentials {
  server: string;
  ca?: Source;
  insecureSkipTLSVerify?: boolean;
  tlsServerName?: string;
  cert?: Source;
  key?: Source;
  token?: Source;
  basic?: { username: string; password: string };
}

type Raw = Record<string, unknown>;

function asRecord(v: unknown): Raw {
  return typeof v === 'object' && v !== null ? (v as Raw) : {};
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function named(list: unknown, name: string | undefined): Raw | undefined {
  if (!Array.isArray(list) || name === undefined) return undefined;
  return list.map(asRecord).find((e) => e.name === name);
}

const USER_KEYS_WE_READ = new Set([
  'client-certificate',
  'client-certificate-data',
  'client-key',
  'client-key-data',
  'token',
  'tokenFile',
  'username',
  'password',
]);
const CLUSTER_KEYS_WE_READ = new Set([
  'server',
  'certificate-authority',
  'certificate-authority-data',
  'insecure-skip-tls-verify',
  'tls-server-name',
  'extensions',
]);

/**
 * The credentials of a kubeconfig's current context (or `context`), with relative file paths taken
 * from the kubeconfig's own folder as kubectl does. Throws NeedsFullClient for anything it does
 * not read itself, and a plain Error for a kubeconfig that is broken.
 */
export function credentialsFromKubeconfig(text: string, file: string, context?: string): Credentials {
  const doc = asRecord(yaml.load(text));
  const contextName = context ?? str(doc['current-context']);
  if (contextName === undefined) throw new Error(`${file}: no current-context`);
  const entry = named(doc.contexts, contextName);
  if (!entry) throw new Error(`${file}: context "${contextName}" not found`);
  const ctx = asRecord(entry.context);
  const cluster = asRecord(named(doc.clusters, str(ctx.cluster))?.cluster);
  const user = asRecord(named(doc.users, str(ctx.user))?.user);
  const server = str(cluster.server);
  if (server === undefined) throw new Error(`${file}: context "${contextName}" has no cluster server`);
  const unread = [
    ...Object.keys(cluster).filter((k) => !CLUSTER_KEYS_WE_READ.has(k)),
    ...Object.keys(user).filter((k) => !USER_KEYS_WE_READ.has(k)),
  ];
  if (unread.length > 0) throw new NeedsFullClient(`kubeconfig uses ${unread.join(', ')}`);
  const dir = path.dirname(path.resolve(file));
  const source = (data: unknown, fileName: unknown): Source | undefined => {
    if (str(data) !== undefined) return { data: Buffer.from(str(data)!, 'base64') };
    if (str(fileName) !== undefined) return { file: path.resolve(dir, str(fileName)!) };
    return undefined;
  };
  const creds: Credentials = { server: server.replace(/\/+$/, '') };
  const ca = source(cluster['certificate-authority-data'], cluster['certificate-authority']);
  if (ca) creds.ca = ca;
  if (cluster['insecure-skip-tls-verify'] === true) creds.insecureSkipTLSVerify = true;
  if (str(cluster['tls-server-name'])) creds.tlsServerName = str(cluster['tls-server-name'])!;
  const cert = source(user['client-certificate-data'], user['client-certificate']);
  const key = source(user['client-key-data'], user['client-key']);
  if (cert) creds.cert = cert;
  if (key) creds.key = key;
  if (str(user.token)) creds.token = { data: Buffer.from(str(user.token)!) };
  else if (str(user.tokenFile)) creds.token = { file: path.resolve(dir, str(user.tokenFile)!) };
  if (str(user.username) && typeof user.password === 'string') {
    creds.basic = { username: str(user.username)!, password: user.password };
  }
  return creds;
}

/** In a pod: the API server from the environment, the ServiceAccount's token and CA from its files. */
export function inClusterCredentials(env: NodeJS.ProcessEnv, dir = SERVICE_ACCOUNT_DIR): Credentials {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new Error('not in a cluster: KUBERNETES_SERVICE_HOST/PORT are not set');
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    server: `https://${hostPart}:${port}`,
    ca: { file: path.join(dir, 'ca.crt') },
    token: { file: path.join(dir, 'token') },
  };
}

function digest(parts: (Material | undefined)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p === undefined ? '-' : createHash('sha256').update(p).digest('hex'));
  return h.digest('hex');
}

/** A connection from credentials this module reads itself. */
export function connectionFrom(creds: Credentials, sourceName: string, now = Date.now): KubeConnection {
  const cache = new Map<string, { at: number; value: Buffer }>();
  const read = (s: Source | undefined): Buffer | undefined => {
    if (!s) return undefined;
    if (s.data) return s.data;
    const file = s.file!;
    const hit = cache.get(file);
    if (hit && now() - hit.at < FILE_REFRESH_MS) return hit.value;
    const value = readFileSync(file);
    cache.set(file, { at: now(), value });
    return value;
  };
  const https = creds.server.startsWith('https:');
  let agent: { key: string; agent: HttpAgent } | undefined;
  return {
    server: creds.server,
    source: sourceName,
    auth() {
      const ca = read(creds.ca);
      const cert = read(creds.cert);
      const key = read(creds.key);
      // New material (a rotated certificate) gets a new agent; the old one's sockets close idle.
      const agentKey = digest([ca, cert, key]);
      if (agent?.key !== agentKey) {
        agent?.agent.destroy();
        const options: AgentOptions = { keepAlive: true };
        if (ca) options.ca = ca;
        if (cert) options.cert = cert;
        if (key) options.key = key;
        if (creds.insecureSkipTLSVerify) options.rejectUnauthorized = false;
        if (creds.tlsServerName) options.servername = creds.tlsServerName;
        agent = {
          key: agentKey,
          agent: https ? new HttpsAgent(options) : new HttpAgent({ keepAlive: true }),
        };
      }
      const headers: Record<string, string> = {};
      const token = read(creds.token)?.toString('utf8').trim();
      if (token) headers.authorization = `Bearer ${token}`;
      else if (creds.basic) {
        headers.authorization = `Basic ${Buffer.from(`${creds.basic.username}:${creds.basic.password}`).toString('base64')}`;
      }
      return Promise.resolve({ agent: agent.agent, headers });
    },
  };
}

/**
 * client-node's KubeConfig for what this module does not read (exec and auth-provider plugins,
 * proxies, merged KUBECONFIG files): imported only here, so only such setups pay for it.
 */
async function fullClientConnection(kubeconfig: string | undefined): Promise<KubeConnection> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  if (kubeconfig) kc.loadFromFile(kubeconfig);
  else kc.loadFromDefault();
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const agents = new Map<string, HttpAgent>();
  return {
    server: cluster.server.replace(/\/+$/, ''),
    source: `${kubeconfig ?? 'default kubeconfig'} (client-node)`,
    async auth() {
      const opts: AgentOptions & { headers?: Record<string, string> } = {};
      await kc.applyToHTTPSOptions(opts);
      const material = [opts.ca, opts.cert, opts.key, opts.pfx].map((m) =>
        m === undefined ? undefined : Buffer.isBuffer(m) || typeof m === 'string' ? m : JSON.stringify(m),
      );
      const key = digest([...material, String(opts.rejectUnauthorized), opts.servername]);
      let agent = agents.get(key);
      if (!agent) {
        const { headers: _headers, ...agentOptions } = opts;
        agent = cluster.server.startsWith('https:')
          ? new HttpsAgent({ ...agentOptions, keepAlive: true })
          : new HttpAgent({ keepAlive: true });
        agents.set(key, agent);
      }
      const headers = Object.fromEntries(
        Object.entries(opts.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]),
      );
      return { agent, headers };
    },
  };
}

/**
 * The connection for `--kubeconfig` or, without it, the way kubectl and client-go look: the
 * KUBECONFIG file, ~/.kube/config, then the pod's ServiceAccount.
 */
export async function loadConnection(
  kubeconfig: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<KubeConnection> {
  let file = kubeconfig;
  if (file === undefined && env.KUBECONFIG) {
    const files = env.KUBECONFIG.split(path.delimiter).filter((f) => f !== '');
    if (files.length > 1) return fullClientConnection(undefined);
    file = files[0];
  }
  if (file === undefined) {
    const home = path.join(env.HOME ?? homedir(), '.kube', 'config');
    if (existsSync(home)) file = home;
  }
  if (file === undefined) return connectionFrom(inClusterCredentials(env), 'in-cluster ServiceAccount');
  try {
    return connectionFrom(credentialsFromKubeconfig(readFileSync(file, 'utf8'), file), file);
  } catch (err) {
    if (err instanceof NeedsFullClient) return fullClientConnection(file);
    throw err;
  }
}

/** A connection from kubeconfig text (an exported client-node KubeConfig, say); paths resolve from `file`'s folder. */
export function connectionFromKubeconfigText(text: string, file: string): KubeConnection {
  return connectionFrom(credentialsFromKubeconfig(text, file), file);
}
