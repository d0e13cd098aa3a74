// A loopback TCP proxy in front of the API server, so a test can cut an operator's connections
// (watches fail) or refuse new ones (the API server "is down") without touching the shared control
// plane other test files use. TLS passes through untouched.
import net from 'node:net';

export interface TcpProxy {
  port: number;
  /** Destroys every open connection; new ones are accepted again. */
  cut(): void;
  /** While down, open connections are cut and new ones are closed at once. */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let down = false;
  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
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
    close: () =>
      new Promise<void>((resolve) => {
        cut();
        server.close(() => resolve());
      }),
  };
}
