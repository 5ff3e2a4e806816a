import { parentOf } from './meta';

describe('parentOf', () => {
  it.each<[string, { namespace?: string; labels?: Record<string, string> }, unknown]>([
    [
      'a namespaced child: its own namespace',
      { namespace: 'team-a', labels: { 'rcs.dana.io/parent-capp': 'web' } },
      { namespace: 'team-a', name: 'web' },
    ],
    [
      "a cluster-scoped child labelled with v0.3.5's key",
      { labels: { 'rcs.dana.io/parent-capp': 'web', 'rcs.dana.io/parent-capp-ns': 'team-a' } },
      { namespace: 'team-a', name: 'web' },
    ],
    [
      'a cluster-scoped child labelled with our earlier key only',
      { labels: { 'rcs.dana.io/parent-capp': 'web', 'rcs.dana.io/parent-capp-namespace': 'team-b' } },
      { namespace: 'team-b', name: 'web' },
    ],
    [
      'a cluster-scoped child without a namespace label: none',
      { labels: { 'rcs.dana.io/parent-capp': 'web' } },
      undefined,
    ],
    ['an object without the parent label: none', { namespace: 'team-a', labels: {} }, undefined],
  ])('finds the Capp of %s', (_what, metadata, expected) => {
    expect(parentOf({ metadata })).toEqual(expected);
  });
});
