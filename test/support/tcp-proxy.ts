// A loopback TCP proxy in front of the API server, so a test can take the API server away from ONE
// process without touching the control plane other test files share. TLS passes through untouched.
// - `cut` destroys every open connection (watches fail); new ones are accepted again;
// - `down` refuses it: open connections are cut, new ones closed at once (the API server "is down");
// - `stalled` moves no byte in either direction and closes nothing (a half-open connection): open
//   connections are paused, new ones accepted but not forwarded;
// - `held` lets nothing the client sends reach the API server, while what the API server sends still
//   reaches the client (client-node keeps connections alive and reuses them): a request sent
//   meanwhile — a watch resumed from the last resourceVersion it saw, say — reaches the API server
//   when released, late, with what it was built with.
// Undone, stalled or held connections flow again and the waiting new ones are forwarded.
import { rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';

export interface TcpProxy {
  port: number;
  cut(): void;
  setDown(down: boolean): void;
  setStalled(stalled: boolean): void;
  setHeld(held: boolean): void;
  close(): Promise<void>;
}

/** A proxy to the API server of `kc`, with a kubeconfig (same credentials) that points at it. */
export interface ApiServerProxy extends TcpProxy {
  kubeconfig: string;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
}

type Paused = 'no' | 'stalled' | 'held';

/** A copy of `kc` (same credentials) whose server is the proxy, written to `file`. */
export function writeProxiedKubeconfig(kc: KubeConfig, proxy: { port: number }, file: string): string {
  const config = JSON.parse(kc.exportConfig()) as { clusters: { cluster: { server: string } }[] };
  for (const c of config.clusters) c.cluster.server = `https://127.0.0.1:${proxy.port}`;
  writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
  return file;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  const waiting: net.Socket[] = [];
  let down = false;
  let paused: Paused = 'no';

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
    client.pipe(upstream).pipe(client);
  };

  const server = net.createServer((client) => {
    client.on('error', () => undefined);
    if (down) {
      client.destroy();
      return;
    }
    if (paused !== 'no') {
      // Not read while paused: the client's TLS hello waits in the socket buffer.
      client.pause();
      waiting.push(client);
      return;
    }
    forward(client);
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  const cut = () => {
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream.destroy();
    }
    for (const client of waiting.splice(0)) client.destroy();
  };
  const pause = (next: Paused) => {
    if (next === paused) return;
    for (const { client, upstream } of pairs) {
      if (paused === 'no') {
        client.unpipe(upstream);
        client.pause();
        if (next === 'stalled') {
          upstream.unpipe(client);
          upstream.pause();
        }
      } else if (next === 'no') {
        client.pipe(upstream);
        if (paused === 'stalled') upstream.pipe(client);
      }
    }
    paused = next;
    if (next === 'no') for (const client of waiting.splice(0)) forward(client);
  };
  const set = (kind: Exclude<Paused, 'no'>, on: boolean) => {
    if (on) pause(kind);
    else if (paused === kind) pause('no');
  };

  return {
    port: (server.address() as net.AddressInfo).port,
    cut,
    setDown(d) {
      down = d;
      if (d) cut();
    },
    setStalled: (on) => set('stalled', on),
    setHeld: (on) => set('held', on),
    close: () =>
      new Promise<void>((resolve) => {
        cut();
        server.close(() => resolve());
      }),
  };
}

/** A proxy in front of `kc`'s API server for one process (`name` goes into the kubeconfig's name). */
export async function startApiServerProxy(kc: KubeConfig, name: string): Promise<ApiServerProxy> {
  const server = new URL(kc.getCurrentCluster()!.server);
  const proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port) });
  const file = path.join(os.tmpdir(), `scim-proxy-${name}-${proxy.port}.json`);
  const kubeconfig = writeProxiedKubeconfig(kc, proxy, file);
  return {
    ...proxy,
    kubeconfig,
    close: async () => {
      await proxy.close();
      rmSync(kubeconfig, { force: true });
    },
  };
}
