// Talking to the verifier of an operator process in tests: finding its URL in the operator's log,
// calling /v1/verify and /v1/tokenreviews over HTTP or HTTPS, and timing how long a change in the
// cluster takes to show in its answers.
import { request as httpRequest, type Agent, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { ROOT, waitFor } from './kube.js';
import type { OperatorProcess } from './operator.js';

export interface VerifierLogLine {
  verifier: string;
  tls: string;
  certSha256?: string;
}

/** Waits for the operator's `verifier listening` line and returns what it says. */
export async function verifierListening(op: OperatorProcess): Promise<VerifierLogLine> {
  return waitFor('the operator to log its verifier address', () => {
    for (const line of op.output().split('\n')) {
      if (!line.startsWith('{')) continue;
      const rec = JSON.parse(line) as Partial<VerifierLogLine> & { msg?: string };
      if (rec.msg === 'verifier listening' && rec.verifier) return rec as VerifierLogLine;
    }
    return undefined;
  });
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** `reason` of a JSON body, if any. */
  reason: string | undefined;
}

export interface CallOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** PEM to trust for https (the self-signed certificate, or the CA of a given one). */
  ca?: string;
  servername?: string;
  /** A keep-alive agent to reuse connections; default a new connection per call. */
  agent?: Agent;
}

/** One request to the verifier (or anything else) at `url`; never follows redirects. */
export function call(url: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const target = new URL(path, url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        agent: options.agent ?? false,
        ...(options.ca ? { ca: options.ca } : {}),
        ...(options.servername ? { servername: options.servername } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => {
          let reason: string | undefined;
          try {
            reason = (JSON.parse(body) as { reason?: string }).reason;
          } catch {
            reason = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, reason });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export function verify(url: string, token: string | undefined, options: CallOptions = {}): Promise<Answer> {
  return call(url, '/v1/verify', {
    ...options,
    headers: { ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }), ...options.headers },
  });
}

/**
 * Polls `probe` every 10 ms until it returns true and reports how long that took from `since`
 * (default: now). The delay is recorded, never asserted: a loaded CI machine must not fail a test
 * for being slow (SPEC §6 measures it in a benchmark instead).
 */
export async function timeUntil(
  description: string,
  probe: () => Promise<boolean>,
  since = Date.now(),
): Promise<number> {
  await waitFor(description, async () => ((await probe()) ? true : undefined), { intervalMs: 10 });
  return Date.now() - since;
}

/** Appends an observed delay to .test-output/<run>/verifier-delays.jsonl for a human to look at. */
export function recordDelay(runId: string, what: string, ms: number): void {
  const dir = path.join(ROOT, '.test-output', runId);
  mkdirSync(dir, { recursive: true });
  appendFileSync(path.join(dir, 'verifier-delays.jsonl'), `${JSON.stringify({ what, ms })}\n`);
  process.stdout.write(`[verifier] ${what}: ${ms} ms\n`);
}
