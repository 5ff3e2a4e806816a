import { Capp, CappRevision } from '@capp/capp-model';

import { cappRevisionName, makeCappRevision, planRevisions, REVISIONS_TO_KEEP } from './revisions';

function capp(annotations?: Record<string, string>, labels?: Record<string, string>): Capp {
  return {
    apiVersion: 'rcs.dana.io/v1alpha1',
    kind: 'Capp',
    metadata: { name: 'web', namespace: 'shop', uid: 'uid-web', annotations, labels },
    spec: { configurationSpec: { template: { spec: { containers: [{ image: 'nginx' }] } } } },
  };
}

/** Revisions 1..n of a Capp, revision i holding annotation test=i. */
const revisions = (n: number): CappRevision[] =>
  Array.from({ length: n }, (_, i) => makeCappRevision(capp({ test: String(i + 1) }), i + 1));

const names = (rs: readonly CappRevision[]): string[] => rs.map((r) => r.metadata.name);

describe('cappRevisionName', () => {
  it.each([
    ['web', 1, 'web-00001'],
    ['web', 123456, 'web-123456'],
    // A name past 63 characters, as knative.dev/pkg's kmeta.ChildName (v0.3.5) makes it.
    [
      'a-very-long-capp-name-that-goes-on-and-on-and-on-for-sixty-ch',
      7,
      'a-very-long-capp-name-thaec598af5f1b4a63377ebb99a3f1890a4-00007',
    ],
  ])('names revision %s/%i %s, as v0.3.5 does', (name, n, expected) => {
    expect(cappRevisionName(name, n)).toBe(expected);
  });
});

describe('makeCappRevision', () => {
  it("keeps the Capp's spec, labels and annotations, labelled with the Capp's name and owned by it", () => {
    expect(makeCappRevision(capp({ a: '1' }, { team: 'x' }), 3)).toEqual({
      apiVersion: 'rcs.dana.io/v1alpha1',
      kind: 'CappRevision',
      metadata: {
        name: 'web-00003',
        namespace: 'shop',
        labels: { 'rcs.dana.io/cappName': 'web' },
        ownerReferences: [{ apiVersion: 'rcs.dana.io/v1alpha1', kind: 'Capp', name: 'web', uid: 'uid-web' }],
      },
      spec: {
        revisionNumber: 3,
        cappTemplate: { cappSpec: capp().spec, labels: { team: 'x' }, annotations: { a: '1' } },
      },
    });
  });
});

describe('planRevisions', () => {
  it('creates revision 1 for a Capp without revisions', () => {
    expect(names([planRevisions(capp(), []).create as CappRevision])).toEqual(['web-00001']);
  });

  it('does nothing while the newest revision holds the Capp as it is (empty and absent maps alike)', () => {
    const stored = makeCappRevision(capp(), 1);
    expect(planRevisions(capp({}, {}), [stored])).toEqual({ delete: [] });
    const withAnnotation = makeCappRevision(capp({ test: '1' }), 2);
    expect(planRevisions(capp({ test: '1' }), [stored, withAnnotation])).toEqual({ delete: [] });
  });

  it('adds a revision numbered after the newest one when the spec, a label or an annotation changed', () => {
    const changedSpec: Capp = { ...capp({ test: '3' }), spec: { ...capp().spec, scaleMetric: 'rps' } };
    for (const changed of [capp({ test: '4' }), capp({ test: '3' }, { team: 'y' }), changedSpec]) {
      const plan = planRevisions(changed, revisions(3));
      expect(plan.create?.metadata.name).toBe('web-00004');
      expect(plan.create?.spec.revisionNumber).toBe(4);
      expect(plan.delete).toEqual([]);
    }
  });

  it(`keeps ${REVISIONS_TO_KEEP}: at ten, a change deletes the oldest and adds one`, () => {
    const plan = planRevisions(capp({ test: 'new' }), revisions(10).reverse());
    expect(plan.create?.metadata.name).toBe('web-00011');
    expect(names(plan.delete)).toEqual(['web-00001']);
  });

  it('brings a Capp with more than ten (say, made while the operator was off) back to ten', () => {
    const plan = planRevisions(capp({ test: 'new' }), revisions(12));
    expect(plan.create?.metadata.name).toBe('web-00013');
    expect(names(plan.delete)).toEqual(['web-00003', 'web-00002', 'web-00001']);
  });

  it('orders by revision number, not creation time (which ties within a second)', () => {
    const [one, two] = revisions(2);
    const sameSecond = (r: CappRevision): CappRevision => ({
      ...r,
      metadata: { ...r.metadata, creationTimestamp: '2026-11-30T12:00:00Z' },
    });
    expect(planRevisions(capp({ test: '2' }), [sameSecond(two), sameSecond(one)])).toEqual({ delete: [] });
    expect(planRevisions(capp({ test: '2' }), [sameSecond(one), sameSecond(two)])).toEqual({ delete: [] });
  });
});
