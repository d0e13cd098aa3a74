// Unit tests for what an error may put in a log line or a condition: never a response body.
import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { summarizeError } from './errors.js';

describe('summarizeError', () => {
  const SECRET_VALUE = 'c2N0X3N1cGVyc2VjcmV0dG9rZW4=';

  it('keeps the status code and Status reason of an API error but none of its body or headers', () => {
    const body = JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      reason: 'Forbidden',
      message: 'secrets is forbidden',
      code: 403,
      details: { causes: [{ message: SECRET_VALUE }] },
    });
    const err = new ApiException(403, 'Unknown API Status Code!', body, { 'x-audit': SECRET_VALUE });

    const summary = summarizeError(err);

    expect(summary).toEqual({ code: 403, reason: 'Forbidden', message: 'HTTP-Code: 403' });
    expect(JSON.stringify(summary)).not.toContain(SECRET_VALUE);
  });

  it('drops a response body that holds objects rather than a Status', () => {
    const body = { kind: 'SecretList', items: [{ data: { token: SECRET_VALUE } }] };
    const err = new ApiException(500, 'Unknown API Status Code!', body, {});

    const summary = summarizeError(err);

    expect(summary).toEqual({ code: 500, message: 'HTTP-Code: 500' });
    expect(JSON.stringify(summary)).not.toContain(SECRET_VALUE);
  });

  it.each([
    {
      kind: 'a failed watch request',
      err: Object.assign(new Error('Gone'), { statusCode: 410 }),
      expected: { code: 410, message: 'Gone' },
    },
    {
      kind: 'a refused connection',
      err: Object.assign(new Error('request to https://127.0.0.1:6443/api failed, reason: refused'), {
        code: 'ECONNREFUSED',
      }),
      expected: {
        code: 'ECONNREFUSED',
        message: 'request to https://127.0.0.1:6443/api failed, reason: refused',
      },
    },
    { kind: 'a thrown string', err: 'boom', expected: { message: 'boom' } },
    { kind: 'nothing at all', err: undefined, expected: { message: 'undefined' } },
    { kind: 'an object without a message', err: { code: 7 }, expected: { code: 7, message: '' } },
  ])('summarises $kind', ({ err, expected }) => {
    expect(summarizeError(err)).toEqual(expected);
  });

  it('cuts a long message short', () => {
    expect(summarizeError(new Error('x'.repeat(5_000))).message).toHaveLength(200);
  });
});
