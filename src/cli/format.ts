// Text output of `kubectl scim`: kubectl-style ages, aligned tables, and the row that `domains`
// shows for a ScimDomain. Pure: `now` is passed in.

import { ConditionType, type ScimDomain } from '../api/types.js';
import { getCondition } from '../rules/conditions.js';

/**
 * A duration as kubectl prints ages (apimachinery's HumanDuration): "45s", "5m30s", "3h", "2d4h", "400d".
 * Negative durations (clock skew) print as "0s".
 */
export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const d = Math.floor(hours / 24) % 365;
    return d === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${d}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** The age of an RFC 3339 timestamp at `now`, or undefined for a missing or unparsable one. */
export function ageOf(timestamp: string | Date | undefined, now: Date): string | undefined {
  if (timestamp === undefined) return undefined;
  const t = new Date(timestamp).getTime();
  return Number.isNaN(t) ? undefined : formatAge(now.getTime() - t);
}

/** Columns separated by three spaces, each as wide as its widest cell (like kubectl get). */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

export const DOMAIN_COLUMNS = [
  'NAMESPACE',
  'NAME',
  'DOMAIN',
  'IDP',
  'READY',
  'REASON',
  'TOKEN',
  'TOKEN AGE',
  'LAST ROTATION',
] as const;

/** Ready status and reason as shown in the table; a status not written yet reads "Unknown NotReconciled". */
export function readiness(d: ScimDomain): { ready: string; reason: string } {
  const ready = getCondition(d.status?.conditions, ConditionType.Ready);
  if (ready === undefined) return { ready: 'Unknown', reason: 'NotReconciled' };
  // A condition for an older generation describes a spec that is no longer there.
  const stale =
    ready.observedGeneration !== undefined &&
    d.metadata.generation !== undefined &&
    ready.observedGeneration !== d.metadata.generation;
  return { ready: ready.status, reason: stale ? `${ready.reason} (Reconciling)` : ready.reason };
}

export function domainRow(d: ScimDomain, now: Date): string[] {
  const { ready, reason } = readiness(d);
  const last = d.status?.lastRotation;
  const lastAge = ageOf(last?.time, now);
  return [
    d.metadata.namespace,
    d.metadata.name,
    d.spec.domain,
    d.spec.identityProvider ?? 'Other',
    ready,
    reason,
    d.status?.token?.fingerprint ?? '-',
    ageOf(d.status?.token?.issuedAt, now) ?? '-',
    lastAge === undefined ? 'never' : `${lastAge} ago (${last?.name ?? '?'})`,
  ];
}

/** The `domains` table, sorted by namespace then name. */
export function domainsTable(domains: readonly ScimDomain[], now: Date): string {
  const sorted = [...domains].sort(
    (a, b) =>
      a.metadata.namespace.localeCompare(b.metadata.namespace) ||
      a.metadata.name.localeCompare(b.metadata.name),
  );
  return renderTable(
    DOMAIN_COLUMNS,
    sorted.map((d) => domainRow(d, now)),
  );
}
