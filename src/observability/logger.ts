// Structured logging for the operator (SPEC §3 "Logs"): building pino loggers and the guarantee that a
// SCIM token never reaches a log line, even when code logs one by mistake.
//
// Four layers, because each catches what the previous cannot:
//   1. `redact` paths censor the fields known to carry tokens (Secret data, Authorization headers);
//   2. `hooks.logMethod` scrubs message strings and interpolation arguments;
//   3. the error serializer scrubs error messages, stacks and properties (API errors carry bodies);
//   4. `hooks.streamWrite` scrubs the finished JSON line, for a token under a key nobody foresaw.
// Scrubbing means replacing the token pattern of SPEC §2.1 (and its base64 form, as Secret data holds
// it) with `sct_[REDACTED]`.
//
// No singleton and no env reading: `main.ts` creates the root logger from Config and passes it down;
// per-reconcile loggers are children naming the object (`domainLogger`).

import { pino, stdSerializers } from 'pino';
import type { DestinationStream, Logger, LoggerOptions as PinoOptions } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const REDACTED = '[REDACTED]';
export const REDACTED_TOKEN = 'sct_[REDACTED]';

/** Object paths whose values are censored whole. Wildcards match exactly one level. */
export const REDACT_PATHS: readonly string[] = [
  // A token passed as a field, or in a Secret's data/stringData, or a TokenReview request body.
  'token',
  '*.token',
  '*.*.token',
  '*.*.*.token',
  'data.token',
  '*.data.token',
  '*.*.data.token',
  'stringData',
  '*.stringData',
  '*.*.stringData',
  'spec.token',
  '*.spec.token',
  // Bearer credentials in HTTP headers, however a library spells and nests them.
  'authorization',
  '*.authorization',
  '*.*.authorization',
  'Authorization',
  '*.Authorization',
  '*.*.Authorization',
  'headers.authorization',
  'headers.Authorization',
  'req.headers.authorization',
  'request.headers.authorization',
  'req.headers.cookie',
  'request.headers.cookie',
];

// SPEC §2.1 tokens are `sct_` + 46 base62 characters. Shorter runs are scrubbed too: a token with a
// character lost in copy-paste (or a prefix logged for "debugging") is still most of a credential.
const TOKEN_IN_TEXT = /sct_[0-9A-Za-z]{16,}/g;
// base64("sct_…") always starts with "c2N0X"; Secret `data` and API error bodies hold tokens that way.
const BASE64_TOKEN_IN_TEXT = /c2N0X[0-9A-Za-z+/]{20,}={0,2}/g;

/** Replaces every token-looking substring (plain or base64) with `sct_[REDACTED]`. */
export function redactTokens(s: string): string {
  // The fast path matters: this runs on every log line.
  if (!s.includes('sct_') && !s.includes('c2N0X')) return s;
  return s.replace(TOKEN_IN_TEXT, REDACTED_TOKEN).replace(BASE64_TOKEN_IN_TEXT, REDACTED_TOKEN);
}

export interface LoggerOptions {
  level: LogLevel | 'silent';
  /** Where JSON lines go; default stdout, written synchronously so a crash loses nothing. */
  destination?: DestinationStream;
  /** Fields on every line; default pid and hostname. */
  base?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions): Logger {
  const pinoOptions: PinoOptions = {
    level: options.level,
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    serializers: { err: serializeError, error: serializeError },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Level names instead of numbers: what `kubectl logs | grep` and most log stacks expect.
    formatters: { level: (label) => ({ level: label }), log: serializeStrayErrors },
    hooks: {
      logMethod(args, method) {
        method.apply(this, scrubArguments(args) as Parameters<typeof method>);
      },
      streamWrite: redactTokens,
    },
    ...(options.base === undefined ? {} : { base: options.base }),
  };
  return pino(pinoOptions, options.destination ?? pino.destination({ dest: 1, sync: true }));
}

/** The logger of one reconcile of a ScimDomain: every line names the object. */
export function domainLogger(log: Logger, namespace: string, name: string): Logger {
  return log.child({ scimdomain: `${namespace}/${name}` });
}

function scrubArguments(args: readonly unknown[]): unknown[] {
  const out = args.map((a) => (typeof a === 'string' ? redactTokens(a) : a));
  // `log.error(err)` makes pino use err.message as the line's message, bypassing the string scrub.
  const [first] = out;
  if (first instanceof Error && typeof out[1] !== 'string') {
    out.splice(1, 0, redactTokens(first.message));
  }
  return out;
}

const SERIALIZED_ERROR_KEYS = new Set(['err', 'error']);

// JSON.stringify drops an Error's message and stack (they are not enumerable), so an error logged
// under any other key (`{cause: e}`) would print as `{}`: serialize it like `err`. Runs before
// pino's own serializers, which handle `err` and `error`.
function serializeStrayErrors(fields: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(fields)) {
    if (value instanceof Error && !SERIALIZED_ERROR_KEYS.has(key)) {
      out ??= { ...fields };
      out[key] = serializeError(value);
    }
  }
  return out ?? fields;
}

const MAX_SCRUB_DEPTH = 8;

/** pino's standard error serializer (type, message and stack with causes, own fields), then scrubbed. */
export function serializeError(err: unknown): unknown {
  const serialized: unknown = stdSerializers.err(err as Error);
  return scrubDeep(serialized, 0, new WeakSet());
}

// Builds a copy rather than editing in place: the values belong to the caller's error object.
function scrubDeep(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactTokens(value);
  if (value === null || typeof value !== 'object' || depth >= MAX_SCRUB_DEPTH) return value;
  // Dates, Buffers and objects with toJSON serialize themselves; copying their fields would change
  // the output, and what they serialize to still passes the line scrub (streamWrite).
  if (!Array.isArray(value) && (!isPlainRecord(value) || 'toJSON' in value)) return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v: unknown) => scrubDeep(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubDeep(v, depth + 1, seen);
  return out;
}

function isPlainRecord(value: object): boolean {
  return Object.prototype.toString.call(value) === '[object Object]';
}
