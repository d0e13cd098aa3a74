// The ScimDomain controller's settings (SPEC §5): config.ts parses them from flags, controller.ts
// runs with them. Kept in the controllers layer so that the controller does not import the
// composition root's config (docs/design.md, "Layers"); config.ts's `Config` is a
// `ScimDomainControllerConfig` as it stands.

/** Overrides of the identity providers' endpoints and trust (SPEC §2.7); undefined: the cloud's. */
export interface DeliveryConfig {
  readonly authorityUrl: string | undefined;
  readonly graphUrl: string | undefined;
  readonly extraCaFile: string | undefined;
}

/** What the controller reads of the process's configuration. */
export interface ScimDomainControllerConfig {
  /** Namespaces to watch; empty: all namespaces. */
  readonly namespaces: readonly string[];
  /** Each watch asks the API server to end it after between this and twice this. */
  readonly minWatchTimeoutMs: number;
  readonly workers: number;
  readonly resyncPeriodMs: number;
  /** How long a rotation waits for its domain before it stalls (SPEC §2.2). */
  readonly rotationGraceMs: number;
  readonly delivery: DeliveryConfig;
}
