// Connection reuse for @kubernetes/client-node 1.x. Its KubeConfig builds a new https.Agent for
// every request (applySecurityAuthentication → createAgent), so every API call pays a TCP and TLS
// handshake on both ends; under load that is most of the API server's CPU for this operator. This
// keeps one keep-alive agent per distinct set of connection options instead.
import { createHash } from 'node:crypto';
import type { Agent } from 'node:http';
import type { Cluster, KubeConfig } from '@kubernetes/client-node';

type AgentOptions = Record<string, unknown>;
type CreateAgent = (cluster: Cluster | null, options: AgentOptions) => Agent;

function digest(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string' || Buffer.isBuffer(v)) return createHash('sha256').update(v).digest('hex');
  return createHash('sha256').update(JSON.stringify(v)).digest('hex');
}

/** Makes `kc` hand out shared keep-alive agents. Returns `kc`. */
export function reuseConnections(kc: KubeConfig): KubeConfig {
  const target = kc as unknown as { createAgent: CreateAgent };
  const create = target.createAgent.bind(kc);
  const agents = new Map<string, Agent>();
  target.createAgent = (cluster, options) => {
    // Credentials can change (a rotated client certificate): they are part of the key.
    const key = [
      cluster?.server ?? '',
      cluster?.proxyUrl ?? '',
      String(options.rejectUnauthorized),
      typeof options.servername === 'string' ? options.servername : '',
      digest(options.ca),
      digest(options.cert),
      digest(options.key),
      digest(options.pfx),
    ].join('|');
    let agent = agents.get(key);
    if (!agent) {
      agent = create(cluster, { ...options, keepAlive: true });
      agents.set(key, agent);
    }
    return agent;
  };
  return kc;
}
