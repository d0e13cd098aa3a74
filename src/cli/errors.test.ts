import { describe, expect, it } from 'vitest';
import {
  CliError,
  ExitCode,
  describeNeeds,
  explainKubeError,
  networkErrorCode,
  type Operation,
} from './errors.js';

const SERVER = 'https://127.0.0.1:6443';
const rotateOp: Operation = {
  action: 'rotate the token of ScimDomain alpha',
  namespace: 'team-a',
  needs: [
    { verb: 'create', resource: 'scimtokenrotations.scim.tokens.dev' },
    { verb: 'rotate', resource: 'scimdomains', name: 'alpha' },
  ],
};

/** The shape client-node 1.x throws for an HTTP error: ApiException with code and the raw body. */
function apiException(code: number, status?: Record<string, unknown>): Error {
  return Object.assign(new Error(`HTTP-Code: ${code}`), {
    code,
    body: status === undefined ? '404 page not found' : JSON.stringify({ kind: 'Status', ...status }),
  });
}

describe('explainKubeError', () => {
  it('names the server and says what to check when the API server cannot be reached', () => {
    const err = Object.assign(new Error('request to https://127.0.0.1:6443/apis failed'), {
      type: 'system',
      code: 'ECONNREFUSED',
    });
    const e = explainKubeError(err, rotateOp, SERVER);
    expect(e.exitCode).toBe(ExitCode.failure);
    expect(e.message).toContain(`cannot reach the Kubernetes API server at ${SERVER} (ECONNREFUSED)`);
    expect(e.message).toContain('KUBECONFIG');
    expect(e.message).toContain('npm run cluster:up');
  });

  it('finds a network code on a nested cause', () => {
    expect(networkErrorCode(new Error('x', { cause: { code: 'ENOTFOUND' } }))).toBe('ENOTFOUND');
    expect(networkErrorCode(new Error('x'))).toBeUndefined();
  });

  it('names the verbs and resources needed on 403, and passes the API server message through', () => {
    const e = explainKubeError(
      apiException(403, { reason: 'Forbidden', message: 'admission says: may not rotate that domain' }),
      rotateOp,
      SERVER,
    );
    expect(e.message).toContain(
      'you need "create" on scimtokenrotations.scim.tokens.dev and "rotate" on scimdomains/alpha in namespace team-a',
    );
    expect(e.message).toContain('The API server said: admission says: may not rotate that domain');
  });

  it('says "in all namespaces" for a cluster-wide request', () => {
    const e = explainKubeError(
      apiException(403, { reason: 'Forbidden', message: 'no' }),
      {
        action: 'list ScimDomains',
        namespace: undefined,
        needs: [{ verb: 'list', resource: 'scimdomains.scim.tokens.dev' }],
      },
      SERVER,
    );
    expect(e.message).toContain('"list" on scimdomains.scim.tokens.dev in all namespaces');
  });

  it('uses the operation message for a missing object, and recognises a missing API', () => {
    const op = { ...rotateOp, notFound: 'ScimDomain alpha not found in namespace team-a' };
    expect(
      explainKubeError(apiException(404, { reason: 'NotFound', message: 'x "alpha" not found' }), op, SERVER)
        .message,
    ).toBe('ScimDomain alpha not found in namespace team-a');
    expect(explainKubeError(apiException(404), op, SERVER).message).toContain('CRDs are not installed');
  });

  it('treats a 422 (the API server refused what was typed) as a usage error with its message', () => {
    const e = explainKubeError(
      apiException(422, {
        reason: 'Invalid',
        message: 'spec.domain: Invalid value: "BAD": domain must be lowercase',
      }),
      rotateOp,
      SERVER,
    );
    expect(e.exitCode).toBe(ExitCode.usage);
    expect(e.message).toContain('domain must be lowercase');
  });

  it('uses the operation message for AlreadyExists', () => {
    const e = explainKubeError(
      apiException(409, { reason: 'AlreadyExists', message: 'exists' }),
      { ...rotateOp, alreadyExists: 'ScimDomain alpha already exists' },
      SERVER,
    );
    expect(e.message).toBe('ScimDomain alpha already exists');
  });

  it('explains 401 as credentials to renew', () => {
    expect(
      explainKubeError(apiException(401, { reason: 'Unauthorized' }), rotateOp, SERVER).message,
    ).toContain('did not accept your credentials');
  });

  it('keeps a CliError as it is', () => {
    const original = new CliError('already explained', 2);
    expect(explainKubeError(original, rotateOp, SERVER)).toBe(original);
  });

  it('joins needs with "and"', () => {
    expect(describeNeeds([{ verb: 'get', resource: 'secrets', name: 's' }])).toBe('"get" on secrets/s');
  });
});
