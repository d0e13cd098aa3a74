import type { Agent } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { reuseConnections } from './keep-alive.js';

type Create = (cluster: unknown, options: Record<string, unknown>) => Agent;

function kubeconfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', skipTLSVerify: false }],
    users: [{ name: 'u', token: 'not-a-secret' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

describe('reuseConnections', () => {
  const create = (kc: KubeConfig) => (kc as unknown as { createAgent: Create }).createAgent.bind(kc);

  it('hands out one keep-alive agent for the same connection options', () => {
    const kc = reuseConnections(kubeconfig());
    const cluster = kc.getCurrentCluster();
    const a = create(kc)(cluster, { ca: Buffer.from('ca') });
    const b = create(kc)(cluster, { ca: Buffer.from('ca') });
    expect(a).toBe(b);
    expect((a as Agent & { keepAlive?: boolean }).keepAlive).toBe(true);
  });

  it('keeps separate agents for other credentials', () => {
    const kc = reuseConnections(kubeconfig());
    const cluster = kc.getCurrentCluster();
    const a = create(kc)(cluster, { cert: Buffer.from('one') });
    const b = create(kc)(cluster, { cert: Buffer.from('two') });
    expect(a).not.toBe(b);
  });

  it('is what client-node does not do by itself (an agent per request)', () => {
    const kc = kubeconfig();
    const cluster = kc.getCurrentCluster();
    expect(create(kc)(cluster, {})).not.toBe(create(kc)(cluster, {}));
  });
});
