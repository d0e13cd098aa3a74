import { describe, expect, it } from 'vitest';
import type { ScimDomain, ScimDomainStatus } from '../../api/types.js';
import { getCondition, type Condition } from '../conditions.js';
import { hasApiError, reportsApiError, withApiError, withoutApiError } from './api-error.js';
import { NOW, T1, editStatus, issuedWorld, acmeDomain, tokenStatus } from '../../../test/support/world.js';

const reconciling = (reason: string): Condition => ({
  type: 'Reconciling',
  status: 'True',
  reason,
  message: '',
  lastTransitionTime: NOW,
});
const withConditions = (d: ScimDomain, conditions: Condition[]): ScimDomain =>
  editStatus({ domain: d, secrets: {} }, (s) => ({
    ...s,
    conditions: [...(s.conditions ?? []), ...conditions],
  })).domain;

describe('reportsApiError / hasApiError', () => {
  it.each([
    { case: 'Reconciling=True ApiError', conditions: [reconciling('ApiError')], want: true },
    { case: 'Reconciling=True for another reason', conditions: [reconciling('Progressing')], want: false },
    { case: 'no Reconciling condition', conditions: [], want: false },
  ])('$case → $want', ({ conditions, want }) => {
    expect(reportsApiError(conditions)).toBe(want);
    expect(hasApiError(withConditions(acmeDomain(), conditions))).toBe(want);
  });
});

describe('withApiError', () => {
  const issued = issuedWorld().domain;
  const revokedBase: ScimDomainStatus = {
    conditions: [
      {
        type: 'Ready',
        status: 'False',
        reason: 'ApiError',
        message: 'token tok-x is revoked',
        lastTransitionTime: NOW,
      },
    ],
  };
  it.each([
    {
      case: 'a domain holding a token stays Ready (its token is valid)',
      d: issued,
      base: undefined,
      ready: { status: 'True', reason: 'TokenIssued' },
    },
    {
      case: 'a domain without a token is Ready=False ApiError',
      d: acmeDomain(),
      base: undefined,
      ready: {
        status: 'False',
        reason: 'ApiError',
        message: expect.stringContaining('quota exceeded') as string,
      },
    },
    {
      case: 'after a refused Secret write, Ready says what was revoked and why',
      d: issued,
      base: revokedBase,
      ready: { status: 'False', reason: 'ApiError', message: 'token tok-x is revoked: quota exceeded' },
    },
  ])('$case', ({ d, base, ready }) => {
    const status = withApiError(d, 'quota exceeded', NOW, base);

    expect(getCondition(status.conditions, 'Reconciling')).toMatchObject({
      status: 'True',
      reason: 'ApiError',
      message: 'the operator could not write to the API server and will retry: quota exceeded',
      observedGeneration: d.metadata.generation,
    });
    expect(getCondition(status.conditions, 'Ready')).toMatchObject(ready);
  });

  it('keeps the token of the base it reports on', () => {
    expect(withApiError(issuedWorld().domain, 'x', NOW).token).toEqual(tokenStatus(T1, 1, NOW));
  });
});

describe('withoutApiError', () => {
  it.each([
    { case: 'the report', conditions: [reconciling('ApiError')] },
    { case: 'any Reconciling condition', conditions: [reconciling('Progressing')] },
  ])('clears $case and keeps the rest', ({ conditions }) => {
    const d = withConditions(issuedWorld().domain, conditions);
    const status = withoutApiError(d.status);

    expect(getCondition(status.conditions, 'Reconciling')).toBeUndefined();
    expect(getCondition(status.conditions, 'Ready')).toMatchObject({ status: 'True' });
    expect(status.token).toEqual(d.status?.token);
  });
});
