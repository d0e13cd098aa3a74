// A loopback TCP proxy in front of the API server, so a test can cut an operator's connections
// (watches fail), refuse new ones (the API server "is down") or stall them (a half-open connection:
// nothing moves, nothing closes) without touching the shared control plane other test files use.
// TLS passes through untouched.
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';

export interface TcpProxy {
  port: number;
  /** Destroys every open connection; new ones are accepted again. */
  cut(): void;
  /** While down, open connections are cut and new ones are closed at once. */
  setDown(down: boolean): void;
  /**
   * While stalled, no byte moves in either direction and nothing is closed: open connections are
   * paused, new ones are accepted but not forwarded. Undone, everything flows again.
   */
  setStalled(stalled: boolean): void;
  close(): Promise<void>;
}

/** A copy of `kc` (same credentials) whose server is the proxy, written to `file`. */
export function writeProxiedKubeconfig(kc: KubeConfig, proxy: TcpProxy, file: string): string {
  const config = JSON.parse(kc.exportConfig()) as { clusters: { cluster: { server: string } }[] };
  for (const c of config.clusters) c.cluster.server = `https://127.0.0.1:${proxy.port}`;
  writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
  return file;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const pairs = new Set<[net.Socket, net.Socket]>();
  const waiting: net.Socket[] = [];
  let down = false;
  let stalled = false;
  const forward = (client: net.Socket) => {
    if (client.destroyed) return;
    const upstream = net.connect(target.port, target.host);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => {
      pairs.delete(pair);
      upstream.destroy();
    });
    upstream.on('close', () => client.destroy());
  };
  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    if (stalled) {
      client.on('error', () => undefined);
      client.pause();
      sockets.add(client);
      client.on('close', () => sockets.delete(client));
      waiting.push(client);
      return;
    }
    forward(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cut = () => {
    for (const s of sockets) s.destroy();
  };
  return {
    port: (server.address() as net.AddressInfo).port,
    cut,
    setDown(d: boolean) {
      down = d;
      if (d) cut();
    },
    setStalled(st: boolean) {
      if (st === stalled) return;
      stalled = st;
      for (const [client, upstream] of pairs) {
        if (st) {
          client.unpipe(upstream);
          upstream.unpipe(client);
          client.pause();
          upstream.pause();
        } else {
          client.pipe(upstream);
          upstream.pipe(client);
        }
      }
      if (!st) for (const client of waiting.splice(0)) forward(client);
    },
    close: () =>
      new Promise<void>((resolve) => {
        cut();
        server.close(() => resolve());
      }),
  };
}
