// Classifying errors from client-node 1.x (ApiException: code + body) without ever copying a
// response body into a message: bodies of Secret requests can hold token material.

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
  const body = (err as { body?: unknown } | undefined)?.body;
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
  }
  if (parsed && typeof parsed === 'object' && (parsed as { kind?: string }).kind === 'Status') {
    const s = parsed as { reason?: string; message?: string };
    return { code, reason: s.reason, message: s.message };
  }
  return { code };
}

/** A short, token-free description of an error for logs and conditions. */
export function describeError(err: unknown): string {
  const { code, reason, message } = apiStatus(err);
  if (code !== undefined) return `HTTP ${code}${reason ? ` ${reason}` : ''}${message ? `: ${message}` : ''}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
