// Classifying and describing API errors (client-node's ApiException, our client's errors: code +
// body) without ever copying a response body into a message: bodies of Secret requests can hold
// token material. Owns both descriptions of an error: `describeError`, one line of text for a log
// field or a condition message, and `summarizeError`, the structured fields an informer logs.

export function statusCode(err: unknown): number | undefined {
  if (err && typeof err === 'object' && 'code' in err) {
    const code = err.code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

export const isNotFound = (err: unknown) => statusCode(err) === 404;
export const isConflict = (err: unknown) => statusCode(err) === 409;
export const isForbidden = (err: unknown) => statusCode(err) === 403;

/** The Kubernetes Status reason/message of an API error, when the body is a Status (never object data). */
export function apiStatus(err: unknown): { code?: number; reason?: string; message?: string } {
  const code = statusCode(err);
  const status = statusBody(err);
  return status ? { code, reason: status.reason, message: status.message } : { code };
}

/** The response body of an error when it is a Kubernetes Status (a string is parsed), else undefined. */
function statusBody(err: unknown): { reason?: string; message?: string } | undefined {
  const body = (err as { body?: unknown } | null | undefined)?.body;
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
  }
  if (parsed && typeof parsed === 'object' && (parsed as { kind?: string }).kind === 'Status') {
    return parsed;
  }
  return undefined;
}

/** A short, token-free description of an error for logs and conditions. */
export function describeError(err: unknown): string {
  const { code, reason, message } = apiStatus(err);
  if (code !== undefined) return `HTTP ${code}${reason ? ` ${reason}` : ''}${message ? `: ${message}` : ''}`;
  if (err instanceof Error) return err.message;
  return String(err);
}

export interface ErrorSummary {
  /** HTTP status (ApiException.code, watch statusCode) or a Node error code such as ECONNREFUSED. */
  code?: number | string;
  /** Kubernetes Status reason (Forbidden, Expired, ...) when the response body was a Status. */
  reason?: string;
  message: string;
}

const MAX_LOGGED_MESSAGE = 200;

/**
 * What of an informer error may be logged. client-node's ApiException puts the whole response body
 * and headers into `message`, and a body can hold objects (a list of Secrets), so only the first
 * line of the message is kept, cut short, plus the status code and a Status reason.
 */
export function summarizeError(err: unknown): ErrorSummary {
  if (typeof err !== 'object' || err === null) return { message: String(err).slice(0, MAX_LOGGED_MESSAGE) };
  const e = err as { message?: unknown; code?: unknown; statusCode?: unknown; body?: unknown };
  const summary: ErrorSummary = {
    message: (typeof e.message === 'string' ? (e.message.split('\n', 1)[0] ?? '') : '').slice(
      0,
      MAX_LOGGED_MESSAGE,
    ),
  };
  const code = [e.statusCode, e.code].find((c) => typeof c === 'number' || typeof c === 'string');
  if (code !== undefined) summary.code = code;
  const reason = statusBody(err)?.reason;
  if (typeof reason === 'string') summary.reason = reason.slice(0, 64);
  return summary;
}
