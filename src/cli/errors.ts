// What `kubectl scim` says when something goes wrong: the error classes that carry an exit code
// (0 ok, 1 failure, 2 usage) and the translation of Kubernetes API errors into messages that say what
// to do — which server could not be reached, which verb on which resource is missing, what does not
// exist.
//
// Pure: the caller passes the error, what it was trying to do and the server URL. Nothing here copies
// a response body into a message except the `message` of a Kubernetes Status, which never holds
// object data (a Secret's data cannot end up in it).

import { apiStatus, statusCode } from '../kube/errors.js';

export const ExitCode = { ok: 0, failure: 1, usage: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error whose message is meant for the user as is; `exitCode` is 1 unless said otherwise. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.failure,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Wrong arguments or flags: exit code 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.usage);
    this.name = 'UsageError';
  }
}

/** A permission the operation needs: `verb` on `resource` (plural.group, or a core plural) [/name]. */
export interface Need {
  verb: string;
  resource: string;
  name?: string;
}

/** What the CLI was doing when an API call failed, so the message can name it. */
export interface Operation {
  /** Completes "could not …", e.g. "create the ScimTokenRotation". */
  action: string;
  /** The namespace the request was for; undefined for a request across all namespaces. */
  namespace: string | undefined;
  /** Permissions the request needs, in the order a human would grant them. */
  needs: readonly Need[];
  /** The message for a 404 of the object itself (not of a missing API). */
  notFound?: string;
  /** The message for a 409 AlreadyExists. */
  alreadyExists?: string;
  /** Appended to a 403 message: who usually has the permission, what to try instead. */
  forbiddenHint?: string;
}

// Error codes of Node's net/tls layers that mean "we never got an HTTP answer".
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const TLS_CODE = /^(CERT_|ERR_TLS_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_)/;

/** The errno-style code of a network failure (node-fetch puts it on the error itself), if any. */
export function networkErrorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || TLS_CODE.test(code))) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** `"create" on scimtokenrotations.scim.tokens.dev and "rotate" on scimdomains/alpha`. */
export function describeNeeds(needs: readonly Need[]): string {
  return needs
    .map((n) => `"${n.verb}" on ${n.resource}${n.name === undefined ? '' : `/${n.name}`}`)
    .join(' and ');
}

function where(namespace: string | undefined): string {
  return namespace === undefined ? 'in all namespaces (cluster-wide)' : `in namespace ${namespace}`;
}

const CLUSTER_HINT =
  'Check that the cluster is running and that KUBECONFIG (or --kubeconfig/--context) points at it; ' +
  'for the local control plane run: npm run cluster:up (or npm run demo)';

/** Turns anything thrown by a client-node call into a CliError that says what to do. */
export function explainKubeError(err: unknown, op: Operation, server: string): CliError {
  if (err instanceof CliError) return err;
  const network = networkErrorCode(err);
  if (network !== undefined) {
    if (TLS_CODE.test(network)) {
      return new CliError(
        `cannot trust the Kubernetes API server at ${server} (${network}): the kubeconfig's ` +
          `certificate-authority does not match the server. ${CLUSTER_HINT}.`,
      );
    }
    return new CliError(`cannot reach the Kubernetes API server at ${server} (${network}). ${CLUSTER_HINT}.`);
  }
  const code = statusCode(err);
  if (code === undefined) {
    const why = err instanceof Error ? err.message : String(err);
    return new CliError(`could not ${op.action}: ${why}`);
  }
  const status = apiStatus(err);
  const said = status.message ? ` The API server said: ${status.message}` : '';
  switch (code) {
    case 401:
      return new CliError(
        `the Kubernetes API server at ${server} did not accept your credentials (401 Unauthorized): ` +
          'the token or client certificate in your kubeconfig is missing, invalid or expired. ' +
          'Log in again, or check --kubeconfig/--context.',
      );
    case 403: {
      const hint = op.forbiddenHint ? ` ${op.forbiddenHint}` : '';
      return new CliError(
        `permission denied: to ${op.action} you need ${describeNeeds(op.needs)} ${where(op.namespace)}.` +
          `${hint}${said}`,
      );
    }
    case 404:
      if (isMissingApi(status)) {
        return new CliError(
          `the API server at ${server} does not serve scim.tokens.dev/v1alpha1: the CRDs are not ` +
            'installed. Install them with: kubectl apply --server-side -f crds/ (npm run cluster:up does it ' +
            'for the local control plane).',
        );
      }
      return new CliError(op.notFound ?? `could not ${op.action}: not found.${said}`);
    case 409:
      if (status.reason === 'AlreadyExists' && op.alreadyExists) return new CliError(op.alreadyExists);
      return new CliError(`could not ${op.action}: conflict (someone else changed it); try again.${said}`);
    case 422:
      // The API server validated what the user typed (the CRD's rules name the field): a usage error.
      return new CliError(`invalid input: ${status.message ?? 'the API server rejected the request'}`, 2);
    default:
      return new CliError(
        `could not ${op.action}: HTTP ${code}${status.reason ? ` ${status.reason}` : ''}.${said}`,
      );
  }
}

// A 404 for a named object carries `details.name`/`kind`; a 404 for an API the server does not have
// carries the generic text below.
function isMissingApi(status: { message?: string }): boolean {
  return (
    status.message === undefined || status.message === 'the server could not find the requested resource'
  );
}
