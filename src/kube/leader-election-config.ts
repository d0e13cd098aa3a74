// The settings of leader election (SPEC §5): config.ts parses them from flags, leader-election.ts
// runs with them. Kept in kube so the elector does not import the composition root's config.

export interface LeaderElectionConfig {
  readonly enabled: boolean;
  /** undefined: the namespace the operator runs in (resolved at start-up, which needs I/O). */
  readonly namespace: string | undefined;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}
