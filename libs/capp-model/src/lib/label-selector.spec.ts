import { matchesLabelSelector } from './label-selector';

describe('matchesLabelSelector', () => {
  const labels = { app: 'shop', tier: 'web' };

  it.each([
    ['an empty selector matches everything', {}, true],
    ['matchLabels all equal', { matchLabels: { app: 'shop' } }, true],
    ['matchLabels one differs', { matchLabels: { app: 'shop', tier: 'api' } }, false],
    [
      'In with the value',
      { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] },
      true,
    ],
    ['In on a missing key', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, false],
    [
      'NotIn on a missing key',
      { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] },
      true,
    ],
    [
      'NotIn with the value',
      { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] },
      false,
    ],
    ['Exists', { matchExpressions: [{ key: 'app', operator: 'Exists' }] }, true],
    ['DoesNotExist', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, false],
  ] as const)('%s', (_name, selector, expected) => {
    expect(matchesLabelSelector(selector as never, labels)).toBe(expected);
  });
});
