// The verifier's settings (SPEC §5): config.ts parses them from flags, verifier.ts runs with them.
// Kept in the verifier layer so that the verifier does not import the composition root's config
// (docs/design.md, "Layers"); config.ts's `Config` is a `VerifierOptions` as it stands.
import type { ListenAddress } from '../api/listen-address.js';

export interface VerifierConfig {
  readonly address: ListenAddress;
  /** Files of a mounted certificate; undefined: a self-signed one is generated (unless insecure). */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  /** Plain HTTP, for a sidecar or loopback deployment. */
  readonly insecure: boolean;
  /** Past this long without knowing its index is current, the verifier is unready and answers 503. */
  readonly maxStalenessMs: number;
  /** Open connections beyond this are closed at once. */
  readonly maxConnections: number;
  /** After SIGTERM: /readyz fails at once, requests are still answered this long, then it closes. */
  readonly drainPeriodMs: number;
}

/** What the verifier reads of the process's configuration: the watch scope and its own settings. */
export interface VerifierOptions {
  /** Namespaces to watch; empty: all namespaces. */
  readonly namespaces: readonly string[];
  /** Each watch asks the API server to end it after between this and twice this. */
  readonly minWatchTimeoutMs: number;
  readonly verifier: VerifierConfig;
}
