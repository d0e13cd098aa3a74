import { describe, it, expect } from 'vitest';
import {
  conditionsEqualIgnoringTime,
  getCondition,
  isTrue,
  removeCondition,
  setCondition,
} from './conditions.js';
import type { Condition, ConditionStatus } from './conditions.js';

const T0 = '2025-01-01T00:00:00Z';
const T1 = '2025-01-01T00:05:00Z';

function cond(type: string, status: ConditionStatus, extra: Partial<Condition> = {}): Condition {
  return { type, status, reason: 'Because', message: 'it is so', lastTransitionTime: T0, ...extra };
}

// Deep-freezes a list so any mutation by the code under test throws in strict mode.
function frozen(list: Condition[]): readonly Condition[] {
  return Object.freeze(list.map((c) => Object.freeze({ ...c })));
}

describe('setCondition', () => {
  it('appends a condition that was not there, stamped with now', () => {
    const before = frozen([cond('Ready', 'True')]);

    const after = setCondition(
      before,
      { type: 'Stalled', status: 'True', reason: 'DomainConflict', message: 'owned by a/b' },
      T1,
    );

    expect(after).toEqual([
      cond('Ready', 'True'),
      {
        type: 'Stalled',
        status: 'True',
        reason: 'DomainConflict',
        message: 'owned by a/b',
        lastTransitionTime: T1,
      },
    ]);
  });

  it('treats a missing list as empty', () => {
    expect(
      setCondition(undefined, { type: 'Ready', status: 'Unknown', reason: 'R', message: '' }, T1),
    ).toEqual([{ type: 'Ready', status: 'Unknown', reason: 'R', message: '', lastTransitionTime: T1 }]);
  });

  it('keeps lastTransitionTime when the status stays the same but takes the new reason, message and generation', () => {
    const before = frozen([
      cond('Ready', 'False', { reason: 'ApiError', message: 'old', observedGeneration: 1 }),
    ]);

    const after = setCondition(
      before,
      { type: 'Ready', status: 'False', reason: 'SecretConflict', message: 'new', observedGeneration: 2 },
      T1,
    );

    expect(after).toEqual([
      cond('Ready', 'False', { reason: 'SecretConflict', message: 'new', observedGeneration: 2 }),
    ]);
  });

  it.each<[ConditionStatus, ConditionStatus]>([
    ['True', 'False'],
    ['False', 'True'],
    ['Unknown', 'True'],
    ['True', 'Unknown'],
    ['False', 'Unknown'],
  ])('moves lastTransitionTime to now when the status goes from %s to %s', (from, to) => {
    const after = setCondition(
      frozen([cond('Ready', from)]),
      { type: 'Ready', status: to, reason: 'R', message: 'm' },
      T1,
    );

    expect(after).toEqual([{ type: 'Ready', status: to, reason: 'R', message: 'm', lastTransitionTime: T1 }]);
  });

  it('drops observedGeneration when the new condition has none', () => {
    const after = setCondition(
      frozen([cond('Ready', 'True', { observedGeneration: 3 })]),
      { type: 'Ready', status: 'True', reason: 'Because', message: 'it is so' },
      T1,
    );

    expect(after).toEqual([cond('Ready', 'True')]);
    expect(after[0]).not.toHaveProperty('observedGeneration');
  });

  it('keeps the position of the replaced condition and leaves the others untouched', () => {
    const before = frozen([cond('Reconciling', 'True'), cond('Ready', 'False'), cond('Stalled', 'True')]);

    const after = setCondition(
      before,
      { type: 'Ready', status: 'True', reason: 'TokenIssued', message: '' },
      T1,
    );

    expect(after.map((c) => c.type)).toEqual(['Reconciling', 'Ready', 'Stalled']);
    expect(after[0]).toEqual(before[0]);
    expect(after[2]).toEqual(before[2]);
  });

  it('returns new objects, so changing the result never changes the input', () => {
    const before = [cond('Ready', 'True')];

    const after = setCondition(before, { type: 'Stalled', status: 'True', reason: 'R', message: '' }, T1);

    expect(after).not.toBe(before);
    expect(after[0]).not.toBe(before[0]);
    expect(before).toEqual([cond('Ready', 'True')]);
  });

  it('collapses duplicate conditions of the same type into one', () => {
    const before = frozen([cond('Ready', 'True'), cond('Stalled', 'True'), cond('Ready', 'False')]);

    const after = setCondition(
      before,
      { type: 'Ready', status: 'True', reason: 'Because', message: 'it is so' },
      T1,
    );

    expect(after).toEqual([cond('Ready', 'True'), cond('Stalled', 'True')]);
  });

  it('uses now when the recorded lastTransitionTime is empty, even if the status did not change', () => {
    const after = setCondition(
      frozen([cond('Ready', 'True', { lastTransitionTime: '' })]),
      { type: 'Ready', status: 'True', reason: 'Because', message: 'it is so' },
      T1,
    );

    expect(after[0]?.lastTransitionTime).toBe(T1);
  });

  it('changes nothing when set to what it already is, so the caller can skip the status write', () => {
    const before = frozen([cond('Ready', 'True', { observedGeneration: 4 }), cond('Stalled', 'False')]);

    const after = setCondition(
      before,
      { type: 'Ready', status: 'True', reason: 'Because', message: 'it is so', observedGeneration: 4 },
      T1,
    );

    expect(after).toEqual(before);
    expect(conditionsEqualIgnoringTime(before, after)).toBe(true);
  });
});

describe('removeCondition', () => {
  it.each([
    {
      name: 'removes the condition of that type',
      type: 'Stalled',
      expected: ['Ready', 'Ready', 'Reconciling'],
    },
    { name: 'removes every condition of that type', type: 'Ready', expected: ['Stalled', 'Reconciling'] },
    {
      name: 'leaves the list as it was when the type is absent',
      type: 'Degraded',
      expected: ['Ready', 'Stalled', 'Ready', 'Reconciling'],
    },
  ])('$name', ({ type, expected }) => {
    const before = frozen([
      cond('Ready', 'True'),
      cond('Stalled', 'True'),
      cond('Ready', 'False'),
      cond('Reconciling', 'True'),
    ]);

    const after = removeCondition(before, type);

    expect(after.map((c) => c.type)).toEqual(expected);
    expect(after).not.toBe(before);
  });

  it('treats a missing list as empty', () => {
    expect(removeCondition(undefined, 'Ready')).toEqual([]);
  });
});

describe('getCondition and isTrue', () => {
  const conditions = frozen([
    cond('Ready', 'True'),
    cond('Stalled', 'False'),
    cond('Reconciling', 'Unknown'),
  ]);

  it('finds a condition by type', () => {
    expect(getCondition(conditions, 'Stalled')).toEqual(cond('Stalled', 'False'));
    expect(getCondition(conditions, 'Degraded')).toBeUndefined();
    expect(getCondition(undefined, 'Ready')).toBeUndefined();
  });

  it.each([
    { name: 'a True condition', type: 'Ready', list: conditions, expected: true },
    { name: 'a False condition', type: 'Stalled', list: conditions, expected: false },
    { name: 'an Unknown condition', type: 'Reconciling', list: conditions, expected: false },
    { name: 'an absent condition', type: 'Degraded', list: conditions, expected: false },
    { name: 'a missing list', type: 'Ready', list: undefined, expected: false },
  ])('isTrue is $expected for $name', ({ type, list, expected }) => {
    expect(isTrue(list, type)).toBe(expected);
  });
});

describe('conditionsEqualIgnoringTime', () => {
  const ready = cond('Ready', 'True', { observedGeneration: 2 });
  const stalled = cond('Stalled', 'False');

  it.each<{ name: string; a: Condition[] | undefined; b: Condition[] | undefined; expected: boolean }>([
    { name: 'identical lists are equal', a: [ready, stalled], b: [ready, stalled], expected: true },
    {
      name: 'lists differing only in lastTransitionTime are equal',
      a: [ready],
      b: [{ ...ready, lastTransitionTime: T1 }],
      expected: true,
    },
    {
      name: 'lists in a different order are equal',
      a: [ready, stalled],
      b: [stalled, ready],
      expected: true,
    },
    { name: 'a missing list equals an empty one', a: undefined, b: [], expected: true },
    {
      name: 'a different status is a change',
      a: [ready],
      b: [{ ...ready, status: 'False' }],
      expected: false,
    },
    {
      name: 'a different reason is a change',
      a: [ready],
      b: [{ ...ready, reason: 'Other' }],
      expected: false,
    },
    {
      name: 'a different message is a change',
      a: [ready],
      b: [{ ...ready, message: 'other' }],
      expected: false,
    },
    {
      name: 'a different observedGeneration is a change',
      a: [ready],
      b: [{ ...ready, observedGeneration: 3 }],
      expected: false,
    },
    {
      name: 'gaining observedGeneration is a change',
      a: [stalled],
      b: [{ ...stalled, observedGeneration: 1 }],
      expected: false,
    },
    { name: 'an added condition is a change', a: [ready], b: [ready, stalled], expected: false },
    { name: 'a removed condition is a change', a: [ready, stalled], b: [ready], expected: false },
    {
      name: 'the same count of different types is a change',
      a: [ready],
      b: [{ ...ready, type: 'Other' }],
      expected: false,
    },
    {
      name: 'a duplicated type is not the same as two types',
      a: [ready, ready],
      b: [ready, stalled],
      expected: false,
    },
    {
      name: 'identical lists with a duplicated type are equal',
      a: [ready, ready],
      b: [ready, ready],
      expected: true,
    },
  ])('$name', ({ a, b, expected }) => {
    expect(conditionsEqualIgnoringTime(a, b)).toBe(expected);
    expect(conditionsEqualIgnoringTime(b, a)).toBe(expected);
  });
});
