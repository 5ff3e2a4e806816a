import { ConditionSet } from './conditions';

const set = new ConditionSet('Ready', ['A', 'B']);
const T0 = '2024-01-01T00:00:00Z';
const T1 = '2024-01-01T00:05:00Z';

describe('ConditionSet', () => {
  it('starts every condition Unknown', () => {
    expect(
      set
        .manage(undefined, T0)
        .conditions()
        .map((c) => [c.type, c.status]),
    ).toEqual([
      ['Ready', 'Unknown'],
      ['A', 'Unknown'],
      ['B', 'Unknown'],
    ]);
  });

  it('derives Ready True once every dependent is True', () => {
    const m = set.manage(undefined, T0).markTrue('A').markTrue('B');
    expect(m.get('Ready')).toMatchObject({ status: 'True', reason: 'Ready' });
    expect(m.isHappy()).toBe(true);
  });

  it('derives Ready from the first False dependent, before any Unknown one', () => {
    const m = set
      .manage(undefined, T0)
      .markUnknown('A', 'Waiting', 'a is coming')
      .markFalse('B', 'Broken', 'b broke');
    expect(m.get('Ready')).toMatchObject({ status: 'False', reason: 'Broken', message: 'b broke' });
  });

  it('derives Ready Unknown from the first Unknown dependent when none is False', () => {
    const m = set.manage(undefined, T0).markTrue('A').markUnknown('B', 'Waiting', 'b is coming');
    expect(m.get('Ready')).toMatchObject({ status: 'Unknown', reason: 'Waiting', message: 'b is coming' });
  });

  it('lets the happy condition be marked explicitly', () => {
    const m = set
      .manage(undefined, T0)
      .markTrue('A')
      .markUnknown('B', 'Waiting', '')
      .markTrue('Ready', 'Disabled', 'off');
    expect(m.get('Ready')).toMatchObject({ status: 'True', reason: 'Disabled', message: 'off' });
  });

  it('refuses a condition type outside the set', () => {
    expect(() => set.manage(undefined, T0).markTrue('C')).toThrow(/not part of this set/);
  });

  it.each([
    [
      'keeps lastTransitionTime when status, reason and message are unchanged',
      'False',
      'Broken',
      'b broke',
      T0,
    ],
    ['moves it when the status changes', 'True', 'Ready', '', T1],
    ['moves it when the reason changes', 'False', 'Smashed', 'b broke', T1],
    ['moves it when the message changes', 'False', 'Broken', 'b broke again', T1],
  ])('%s', (_title, status, reason, message, expected) => {
    const previous = set.manage(undefined, T0).markFalse('B', 'Broken', 'b broke').conditions();
    const m = set.manage(previous, T1);
    if (status === 'True') m.markTrue('B', reason, message);
    else m.markFalse('B', reason, message);
    expect(m.get('B')?.lastTransitionTime).toBe(expected);
  });
});
