// Binding a server of this process to a ListenAddress: the health server's (--metrics-addr) and the
// verifier's (--verify-addr). One place says how an address is bound and how a failure to bind reads.
import type { AddressInfo, Server } from 'node:net';
import type { ListenAddress } from '../api/listen-address.js';

/**
 * Listens on `address`; resolves with the address actually bound (the real port when 0 was asked
 * for). A failure to bind rejects with "`<prefix>`cannot listen on host:port: why".
 */
export async function listen(server: Server, address: ListenAddress, prefix = ''): Promise<ListenAddress> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(
        new Error(`${prefix}cannot listen on ${address.host}:${address.port}: ${err.message}`, {
          cause: err,
        }),
      );
    };
    server.once('error', onError);
    // An empty host would bind "localhost" only on some systems; omitting it means all interfaces.
    const host = address.host === '' ? undefined : address.host;
    server.listen({ port: address.port, host }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return { host: bound.address, port: bound.port };
}
