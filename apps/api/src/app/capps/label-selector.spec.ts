import { parseLabelSelector } from './label-selector';

describe('label selectors', () => {
  it('parses the kubectl grammar: equality, inequality, sets and existence', () => {
    expect(
      parseLabelSelector('app=web, tier==front,env!=prod,zone in (a, b),team notin (x),canary,!legacy'),
    ).toEqual([
      { key: 'app', operator: 'eq', values: ['web'] },
      { key: 'tier', operator: 'eq', values: ['front'] },
      { key: 'env', operator: 'neq', values: ['prod'] },
      { key: 'zone', operator: 'in', values: ['a', 'b'] },
      { key: 'team', operator: 'notin', values: ['x'] },
      { key: 'canary', operator: 'exists', values: [] },
      { key: 'legacy', operator: 'notexists', values: [] },
    ]);
    expect(parseLabelSelector('app.kubernetes.io/name=web')).toEqual([
      { key: 'app.kubernetes.io/name', operator: 'eq', values: ['web'] },
    ]);
    expect(parseLabelSelector('')).toEqual([]);
    expect(parseLabelSelector(undefined)).toEqual([]);
  });

  it.each([['a in (b'], ['=x'], ['a=b c'], ['Bad Key=1'], ['a=-x-']])('refuses %p', (selector) => {
    expect(() => parseLabelSelector(selector)).toThrow();
  });
});
