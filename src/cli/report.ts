// `kubectl scim status <domain>`: everything an admin asks about one domain — readiness and
// conditions, the token and its age limit, an overlap or delivery in progress, its rotations with their
// schedules and next runs, and recent Events — as data (for -o json|yaml) and as text.
//
// Pure: objects and `now` in, a report or text out. Fields that newer operator versions add
// (maxTokenAge, previousToken, delivery, requestedBy, overlap) are read defensively: a report of an
// object without them simply has no such section.

import type { CoreV1Event } from '@kubernetes/client-node';
import { ConditionType, type ScimDomain, type ScimTokenRotation, type TokenStatus } from '../api/types.js';
import type { Condition } from '../rules/conditions.js';
import { ageOf, formatAge, renderTable } from './format.js';
import { readiness } from './format.js';
import { secretNameOf } from './status.js';

export const RECENT_EVENTS = 10;

export interface RotationSummary {
  name: string;
  schedule?: string;
  timeZone?: string;
  suspend?: boolean;
  ready?: { status: string; reason: string; message: string };
  stalled?: { reason: string; message: string };
  rotatedAt?: string;
  lastScheduleTime?: string;
  nextScheduleTime?: string;
  overlap?: string;
  ttlSecondsAfterFinished?: number;
  requestedBy?: string;
  created?: string;
}

export interface EventSummary {
  time?: string;
  type: string;
  reason: string;
  object: string;
  message: string;
  count?: number;
  reportingInstance?: string;
}

export interface DomainReport {
  namespace: string;
  name: string;
  domain: string;
  identityProvider: string;
  suspend: boolean;
  secretName: string;
  ready: { status: string; reason: string; message?: string };
  conditions: Condition[];
  token?: TokenStatus;
  /** spec.maxTokenAge and when the current token passes it. */
  maxTokenAge?: { maxAge: string; overdueAt?: string; overdue?: boolean };
  /** An overlap in progress: the previous token still verifies until expiresAt. */
  previousToken?: { id?: string; fingerprint?: string; expiresAt?: string };
  delivery?: { target?: string; condition?: Condition; last?: Record<string, unknown> };
  lastRotation?: Record<string, unknown>;
  revokedTokens: { id: string; fingerprint: string; revokedAt: string; reason: string }[];
  rotations: RotationSummary[];
  events: EventSummary[];
}

type Loose = Record<string, unknown>;
const loose = (v: unknown): Loose | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Loose) : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

const UNIT_MS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 };

/** "90d", "2160h", "1h30m" → milliseconds; undefined for anything else. */
export function parseAge(value: string): number | undefined {
  if (!/^(\d+(\.\d+)?[dhms])+$/.test(value)) return undefined;
  let ms = 0;
  for (const [, n, unit] of value.matchAll(/(\d+(?:\.\d+)?)([dhms])/g)) ms += Number(n) * UNIT_MS[unit!]!;
  return ms > 0 ? ms : undefined;
}

function eventTime(e: CoreV1Event): string | undefined {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  return t === undefined ? undefined : new Date(t).toISOString();
}

export function summarizeRotation(r: ScimTokenRotation): RotationSummary {
  const spec = r.spec as ScimTokenRotation['spec'] & Loose;
  const status = (r.status ?? {}) as NonNullable<ScimTokenRotation['status']> & Loose;
  const ready = status.conditions?.find((c) => c.type === ConditionType.Ready);
  const stalled = status.conditions?.find((c) => c.type === ConditionType.Stalled && c.status === 'True');
  const requestedBy =
    str(status.requestedBy) ?? str(r.metadata.annotations?.['scim.tokens.dev/requested-by']);
  const out: RotationSummary = { name: r.metadata.name };
  if (spec.schedule !== undefined) out.schedule = spec.schedule;
  if (spec.schedule !== undefined && spec.timeZone !== undefined) out.timeZone = spec.timeZone;
  if (spec.suspend === true) out.suspend = true;
  if (ready) out.ready = { status: ready.status, reason: ready.reason, message: ready.message };
  if (stalled) out.stalled = { reason: stalled.reason, message: stalled.message };
  if (status.rotatedAt) out.rotatedAt = status.rotatedAt;
  if (status.lastScheduleTime) out.lastScheduleTime = status.lastScheduleTime;
  if (status.nextScheduleTime) out.nextScheduleTime = status.nextScheduleTime;
  const overlap = str(spec.overlap);
  if (overlap) out.overlap = overlap;
  if (typeof spec.ttlSecondsAfterFinished === 'number')
    out.ttlSecondsAfterFinished = spec.ttlSecondsAfterFinished;
  if (requestedBy) out.requestedBy = requestedBy;
  if (r.metadata.creationTimestamp) out.created = new Date(r.metadata.creationTimestamp).toISOString();
  return out;
}

/** The report of one domain, its rotations (any order) and Events about it and them (any order). */
export function domainReport(
  d: ScimDomain,
  rotations: readonly ScimTokenRotation[],
  events: readonly CoreV1Event[],
  now: Date,
): DomainReport {
  const spec = d.spec as ScimDomain['spec'] & Loose;
  const status = (d.status ?? {}) as NonNullable<ScimDomain['status']> & Loose;
  const readyCondition = status.conditions?.find((c) => c.type === ConditionType.Ready);
  const { ready, reason } = readiness(d);
  const report: DomainReport = {
    namespace: d.metadata.namespace,
    name: d.metadata.name,
    domain: d.spec.domain,
    identityProvider: d.spec.identityProvider ?? 'Other',
    suspend: d.spec.suspend === true,
    secretName: secretNameOf(d),
    ready: { status: ready, reason, ...(readyCondition ? { message: readyCondition.message } : {}) },
    conditions: status.conditions ?? [],
    revokedTokens: (status.revokedTokens ?? []).map((t) => ({ ...t })),
    rotations: rotations
      .filter((r) => r.spec.domainRef.name === d.metadata.name)
      .map(summarizeRotation)
      .sort((a, b) => (b.created ?? '').localeCompare(a.created ?? '') || a.name.localeCompare(b.name)),
    events: events
      .map((e) => ({ e, time: eventTime(e) }))
      .sort((a, b) => (b.time ?? '').localeCompare(a.time ?? ''))
      .slice(0, RECENT_EVENTS)
      .map(({ e, time }) => ({
        ...(time ? { time } : {}),
        type: e.type ?? '',
        reason: e.reason ?? '',
        object: `${e.involvedObject.kind ?? ''}/${e.involvedObject.name ?? ''}`,
        message: e.message ?? '',
        ...(e.count !== undefined && e.count > 1 ? { count: e.count } : {}),
        ...(e.reportingInstance ? { reportingInstance: e.reportingInstance } : {}),
      })),
  };
  if (status.token) report.token = status.token;

  const maxAge = str(spec.maxTokenAge);
  if (maxAge) {
    const ms = parseAge(maxAge);
    const issued = status.token ? new Date(status.token.issuedAt).getTime() : NaN;
    report.maxTokenAge =
      ms !== undefined && !Number.isNaN(issued)
        ? {
            maxAge,
            overdueAt: new Date(issued + ms).toISOString(),
            overdue: now.getTime() > issued + ms,
          }
        : { maxAge };
  }
  const previous = loose(status.previousToken);
  if (previous) {
    report.previousToken = {
      ...(str(previous.id) ? { id: str(previous.id) } : {}),
      ...(str(previous.fingerprint) ? { fingerprint: str(previous.fingerprint) } : {}),
      ...(str(previous.expiresAt) ? { expiresAt: str(previous.expiresAt) } : {}),
    };
  }
  const entra = loose(loose(spec.delivery)?.entraID);
  const delivered = status.conditions?.find((c) => c.type === 'Delivered');
  const lastDelivery = loose(status.lastDelivery);
  if (entra || delivered || lastDelivery) {
    report.delivery = {
      ...(entra ? { target: `Entra ID service principal ${str(entra.servicePrincipalId) ?? '?'}` } : {}),
      ...(delivered ? { condition: delivered } : {}),
      ...(lastDelivery ? { last: lastDelivery } : {}),
    };
  }
  const last = loose(status.lastRotation);
  if (last) report.lastRotation = last;
  return report;
}

const ago = (t: string | undefined, now: Date) => {
  const a = ageOf(t, now);
  return a === undefined ? '-' : `${a} ago`;
};
const inFuture = (t: string | undefined, now: Date) => {
  if (t === undefined) return '-';
  const ms = new Date(t).getTime() - now.getTime();
  return Number.isNaN(ms) ? '-' : ms >= 0 ? `in ${formatAge(ms)} (${t})` : `${formatAge(-ms)} ago (${t})`;
};

/** The report as text for a terminal. */
export function renderReport(r: DomainReport, now: Date): string {
  const lines: string[] = [];
  const field = (label: string, value: string) => lines.push(`${`${label}:`.padEnd(15)}${value}`);
  field('ScimDomain', `${r.namespace}/${r.name}`);
  field('Domain', `${r.domain} (${r.identityProvider})`);
  field('Ready', `${r.ready.status} ${r.ready.reason}${r.ready.message ? ` — ${r.ready.message}` : ''}`);
  if (r.suspend) field('Suspended', 'yes: provisioning is disabled and no token is valid');
  field('Secret', r.secretName);
  field(
    'Token',
    r.token
      ? `${r.token.id} ${r.token.fingerprint}, issued ${ago(r.token.issuedAt, now)} (generation ${r.token.generation})`
      : 'none',
  );
  if (r.maxTokenAge) {
    const m = r.maxTokenAge;
    field(
      'Max age',
      m.overdueAt
        ? `${m.maxAge}: ${m.overdue ? `OVERDUE since ${ago(m.overdueAt, now).replace(/ ago$/, '')}` : `due ${inFuture(m.overdueAt, now)}`} — rotate before then`
        : m.maxAge,
    );
  }
  if (r.previousToken) {
    field(
      'Overlap',
      `previous token ${r.previousToken.id ?? '?'} ${r.previousToken.fingerprint ?? ''} still verifies until ${r.previousToken.expiresAt ?? '?'}`.replace(
        /\s+/g,
        ' ',
      ),
    );
  }
  if (r.delivery) {
    const c = r.delivery.condition;
    field(
      'Delivery',
      [r.delivery.target, c ? `${c.type}=${c.status} ${c.reason}: ${c.message}` : undefined]
        .filter(Boolean)
        .join('; '),
    );
  }
  if (r.lastRotation) {
    const by = str(r.lastRotation.requestedBy);
    field(
      'Last rotation',
      `${str(r.lastRotation.name) ?? '?'} ${ago(str(r.lastRotation.time), now)}${by ? ` (requested by ${by})` : ''}`,
    );
  }
  if (r.revokedTokens.length > 0) {
    const t = r.revokedTokens[0]!;
    field(
      'Last revoked',
      `${t.id} ${t.fingerprint} (${t.reason}) ${ago(t.revokedAt, now)}; ${r.revokedTokens.length} recorded`,
    );
  }

  lines.push(
    '',
    'Conditions:',
    section(
      ['TYPE', 'STATUS', 'REASON', 'AGE', 'MESSAGE'],
      r.conditions.map((c) => [
        c.type,
        c.status,
        c.reason,
        ageOf(c.lastTransitionTime, now) ?? '-',
        c.message,
      ]),
      'none (the operator has not written a status yet)',
    ),
  );

  lines.push(
    '',
    'Rotations:',
    section(
      ['NAME', 'SCHEDULE', 'READY', 'REASON', 'LAST RUN', 'NEXT RUN', 'AGE'],
      r.rotations.map((x) => [
        x.name,
        x.schedule
          ? `${x.schedule}${x.timeZone && x.timeZone !== 'UTC' ? ` ${x.timeZone}` : ''}${x.suspend ? ' (suspended)' : ''}`
          : 'one-shot',
        x.ready?.status ?? 'Unknown',
        x.stalled ? `${x.stalled.reason} (Stalled)` : (x.ready?.reason ?? 'NotReconciled'),
        ago(x.rotatedAt ?? x.lastScheduleTime, now),
        x.nextScheduleTime ? inFuture(x.nextScheduleTime, now) : '-',
        ageOf(x.created, now) ?? '-',
      ]),
      `none (rotate with: kubectl scim rotate ${r.name} -n ${r.namespace})`,
    ),
  );

  lines.push(
    '',
    `Events (the ${RECENT_EVENTS} most recent):`,
    section(
      ['AGE', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
      r.events.map((e) => [
        ageOf(e.time, now) ?? '-',
        e.type,
        e.reason,
        e.object,
        `${e.message}${e.count ? ` (x${e.count})` : ''}`,
      ]),
      'none (Events expire after an hour by default)',
    ),
  );
  return lines.join('\n').trimEnd() + '\n';
}

/** A titled block of `status`: its rows as an indented table, or what it means that there are none. */
function section(headers: readonly string[], rows: readonly (readonly string[])[], none: string): string {
  return rows.length === 0 ? `  ${none}` : indent(renderTable(headers, rows));
}

function indent(table: string): string {
  return table
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
