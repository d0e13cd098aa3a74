// `kubectl scim verify`: reads a token from standard input and says whether it is valid, for which
// domain, or why not. Locally by default: hashes the token and compares it with the status of the
// ScimDomains the user may list (token-check.ts) — no access to Secrets needed. With --url it asks a
// running verifier's POST /v1/tokenreviews instead (SPEC §4).
//
// Exit code 0 for a valid token, 1 for an invalid one (or a failure), 2 for usage errors.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { API_VERSION, DOMAIN_PLURAL, GROUP } from '../../api/types.js';
import { checkTokenFormat, tokenFingerprint } from '../../rules/token.js';
import { CliError, ExitCode, UsageError, networkErrorCode } from '../errors.js';
import { readAll, readSecretLine } from '../io.js';
import { checkToken, describeCheck } from '../token-check.js';
import type { CommandContext } from './context.js';

export interface VerifyOptions {
  url?: string;
  caFile?: string;
  insecureSkipTlsVerify: boolean;
}

async function readToken(ctx: CommandContext): Promise<string> {
  const { io } = ctx;
  const raw =
    io.stdin.isTTY === true
      ? await readSecretLine(io, 'Paste the token and press Enter (input is hidden): ')
      : await readAll(io.stdin);
  if (raw === undefined) throw new CliError('cancelled.');
  const token = raw.trim();
  if (token === '') {
    throw new UsageError(
      'no token on standard input: pipe it in, e.g. kubectl scim token <name> | kubectl scim verify',
    );
  }
  return token;
}

export async function runVerify(ctx: CommandContext, opts: VerifyOptions): Promise<ExitCode> {
  if (opts.url !== undefined) checkUrl(opts.url);
  const token = await readToken(ctx);
  return opts.url === undefined ? verifyLocally(ctx, token) : verifyRemotely(ctx, token, opts);
}

async function verifyLocally(ctx: CommandContext, token: string): Promise<ExitCode> {
  if (checkTokenFormat(token) !== 'ok') {
    // Decided without the cluster: the format and checksum are wrong.
    ctx.io.stdout.write(`${describeCheck({ result: 'malformed' }, '')}\n`);
    return ExitCode.failure;
  }
  const s = ctx.session();
  // Search everything the user may list: all namespaces if allowed (unless -n narrows it), else the
  // current namespace only — and say so, since a token from elsewhere then looks unknown.
  const all = !s.namespaceExplicit && (await s.can('list', DOMAIN_PLURAL, undefined, GROUP));
  const namespace = all ? undefined : s.namespace;
  const domains = await s.listDomains(namespace);
  const where = all ? 'in all namespaces' : `in namespace ${s.namespace}`;
  let scope = `${where} (${domains.length} searched)`;
  if (!all && !s.namespaceExplicit) {
    scope +=
      '; you may not list ScimDomains in all namespaces, so a token of another namespace looks unknown here (ask a verifier with --url)';
  }
  const check = checkToken(token, domains);
  ctx.io.stdout.write(`${describeCheck(check, scope)}\n`);
  return check.result === 'valid' ? ExitCode.ok : ExitCode.failure;
}

function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(
      `--url: expected the verifier's base URL such as https://127.0.0.1:8443, got ${JSON.stringify(url)}`,
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`--url: expected an http:// or https:// URL, got ${JSON.stringify(url)}`);
  }
}

interface ReviewAnswer {
  status?: {
    authenticated?: boolean;
    reason?: string;
    domain?: string;
    domainRef?: string;
    identityProvider?: string;
    tokenId?: string;
  };
}

async function verifyRemotely(ctx: CommandContext, token: string, opts: VerifyOptions): Promise<ExitCode> {
  const base = opts.url!.endsWith('/') ? opts.url! : `${opts.url!}/`;
  const target = new URL('v1/tokenreviews', base);
  let ca: string | undefined;
  if (opts.caFile !== undefined) {
    try {
      ca = readFileSync(opts.caFile, 'utf8');
    } catch (err) {
      throw new UsageError(`--ca-file: cannot read ${opts.caFile}: ${(err as Error).message}`);
    }
  }
  const body = JSON.stringify({ apiVersion: API_VERSION, kind: 'TokenReview', spec: { token } });
  let answer: { status: number; body: string };
  try {
    answer = await post(target, body, { ca, insecure: opts.insecureSkipTlsVerify });
  } catch (err) {
    const code = networkErrorCode(err) ?? (err as { code?: string }).code ?? 'error';
    throw new CliError(
      `cannot reach the verifier at ${target.origin} (${code}). Is the operator running with --verify-addr on that ` +
        'address? It serves plain HTTP only with --verify-insecure (use http://); for its self-signed certificate ' +
        'pass --ca-file or --insecure-skip-tls-verify.',
    );
  }
  if (answer.status === 503) {
    throw new CliError(
      `the verifier at ${target.origin} is not ready yet (still listing ScimDomains); try again.`,
    );
  }
  if (answer.status !== 200) {
    throw new CliError(
      `the verifier at ${target.href} answered HTTP ${answer.status}; is that a scim-token-operator verifier?`,
    );
  }
  let review: ReviewAnswer;
  try {
    review = JSON.parse(answer.body) as ReviewAnswer;
  } catch {
    throw new CliError(`the verifier at ${target.href} answered something that is not JSON`);
  }
  const fingerprint = checkTokenFormat(token) === 'ok' ? tokenFingerprint(token) : undefined;
  const st = review.status ?? {};
  if (st.authenticated === true) {
    ctx.io.stdout.write(
      `valid: the verifier at ${target.origin} accepts token ${fingerprint ?? ''} (${st.tokenId ?? '?'}) for ScimDomain ` +
        `${st.domainRef ?? '?'} (domain ${st.domain ?? '?'}, IdP ${st.identityProvider ?? '?'})\n`,
    );
    return ExitCode.ok;
  }
  const reason = st.reason ?? 'unknown';
  const explain: Record<string, string> = {
    malformed: 'not a SCIM token of scim-token-operator (format or checksum wrong)',
    revoked: 'it was issued, then revoked (rotated, suspended, replaced or its domain deleted)',
    unknown: 'no ScimDomain the verifier watches issued it',
    missing: 'the verifier saw no token',
  };
  ctx.io.stdout.write(
    `invalid (${reason}): the verifier at ${target.origin} rejects ${fingerprint ? `token ${fingerprint}` : 'the token'}: ` +
      `${explain[reason] ?? reason}\n`,
  );
  return ExitCode.failure;
}

function post(
  url: URL,
  body: string,
  tls: { ca: string | undefined; insecure: boolean },
): Promise<{ status: number; body: string }> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
        timeout: 10_000,
        ...(url.protocol === 'https:'
          ? { ...(tls.ca !== undefined ? { ca: tls.ca } : {}), rejectUnauthorized: !tls.insecure }
          : {}),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(body);
  });
}
