// Where a server of this process listens: the value `--verify-addr` and `--metrics-addr` parse into
// (config.ts) and the verifier's and health server's listeners bind to. Kept here, below every layer,
// because both servers and the configuration speak it.

/** A listen address. `host` is "" or "0.0.0.0" for all interfaces; IPv6 hosts carry no brackets. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** `host:port`, with an IPv6 host in brackets. */
export function formatAddress(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
