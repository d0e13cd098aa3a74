// A loopback TCP proxy in front of the fault plane's API server for ONE operator process, so a test
// can take the API server away from that process only:
// - `down` refuses it: open connections are cut, new ones closed at once;
// - `hold` lets nothing it sends reach the API server until released, while what the API server
//   sends still reaches it: new connections are accepted but not forwarded, and on open ones
//   (client-node may keep them alive and reuse them) the client-to-server direction is paused. A
//   request sent meanwhile — a watch resumed from the last resourceVersion it saw, say — reaches the
//   API server when released, late, with what it was built with.
// TLS passes through untouched.
import { rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';

export interface FaultProxy {
  port: number;
  /** A kubeconfig with the same credentials whose server is this proxy. */
  kubeconfig: string;
  setDown(down: boolean): void;
  setHeld(held: boolean): void;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
}

export async function startFaultProxy(kc: KubeConfig, name: string): Promise<FaultProxy> {
  const server = new URL(kc.getCurrentCluster()!.server);
  const target = { host: server.hostname, port: Number(server.port) };
  const pairs = new Set<Pair>();
  const waiting: net.Socket[] = [];
  let down = false;
  let holding = false;

  const forward = (client: net.Socket) => {
    if (client.destroyed) return;
    const upstream = net.connect(target.port, target.host);
    upstream.on('error', () => undefined);
    const pair = { client, upstream };
    pairs.add(pair);
    const close = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close);
    upstream.on('close', close);
    upstream.pipe(client);
    if (holding) client.pause();
    else client.pipe(upstream);
  };

  const proxy = net.createServer((client) => {
    client.on('error', () => undefined);
    if (down) {
      client.destroy();
      return;
    }
    if (holding) {
      // Not read while held: the client's TLS hello waits in the socket buffer.
      client.pause();
      waiting.push(client);
      return;
    }
    forward(client);
  });
  proxy.on('error', () => undefined);
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const port = (proxy.address() as net.AddressInfo).port;

  const config = JSON.parse(kc.exportConfig()) as { clusters: { cluster: { server: string } }[] };
  for (const c of config.clusters) c.cluster.server = `https://127.0.0.1:${port}`;
  const kubeconfig = path.join(os.tmpdir(), `scim-fault-proxy-${name}-${port}.json`);
  writeFileSync(kubeconfig, JSON.stringify(config), { mode: 0o600 });

  const cutAll = () => {
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream.destroy();
    }
    for (const client of waiting.splice(0)) client.destroy();
  };
  return {
    port,
    kubeconfig,
    setDown(d) {
      down = d;
      if (d) cutAll();
    },
    setHeld(h) {
      if (h === holding) return;
      holding = h;
      if (h) {
        for (const { client, upstream } of pairs) {
          client.unpipe(upstream);
          client.pause();
        }
        return;
      }
      for (const { client, upstream } of pairs) client.pipe(upstream);
      for (const client of waiting.splice(0)) forward(client);
    },
    close: () =>
      new Promise<void>((resolve) => {
        cutAll();
        rmSync(kubeconfig, { force: true });
        proxy.close(() => resolve());
      }),
  };
}
