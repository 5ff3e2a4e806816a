import { hashOf, isSubset } from './drift';

describe('isSubset', () => {
  it.each([
    ['an identical object', { a: 1, b: { c: 'x' } }, { a: 1, b: { c: 'x' } }, true],
    ['fields the server added', { a: 1 }, { a: 1, b: 2, metadata: { uid: 'u' } }, true],
    ['a changed value', { a: 1 }, { a: 2 }, false],
    ['a missing field', { a: 1, b: 2 }, { a: 1 }, false],
    ['a list with an extra item', { l: [1] }, { l: [1, 2] }, false],
    ['a list item with server defaults', { l: [{ n: 'a' }] }, { l: [{ n: 'a', d: 1 }] }, true],
    ['a list item edited by hand', { l: [{ n: 'a' }] }, { l: [{ n: 'b' }] }, false],
    ['an object replaced by a scalar', { a: { b: 1 } }, { a: 'x' }, false],
  ])('compares %s', (_t, desired, live, expected) => {
    expect(isSubset(desired, live)).toBe(expected);
  });
});

describe('hashOf', () => {
  it('ignores key order and changes with any value', () => {
    expect(hashOf({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(hashOf({ b: [1, { d: 3, c: 2 }], a: 1 }));
    expect(hashOf({ a: 1 })).not.toBe(hashOf({ a: 2 }));
  });
});
