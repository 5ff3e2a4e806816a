import { validateCapp } from '../validate-capp';
import { corpusCapp, KNATIVE_CORPUS } from './corpus';
import { parseGoDuration } from './duration';
import { cleanPath, isImageReference, knativeIssues } from './rules';
import { knativeSettings, PLATFORM_KNATIVE_FEATURES, PLATFORM_KNATIVE_SETTINGS } from './settings';

describe("Knative Serving's admission rules, at the Capp's field paths", () => {
  const valid = KNATIVE_CORPUS.filter((c) => !c.refused);
  const broken = KNATIVE_CORPUS.filter((c) => c.refused);

  it.each(valid.map((c) => [c.title, c.capp] as const))('accepts %s', (_, capp) => {
    expect(validateCapp(capp)).toEqual([]);
  });

  it.each(broken.map((c) => [c.title, c.capp, c.refused] as const))('refuses %s', (_, capp, expected) => {
    const issues = validateCapp(capp);
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]).toMatchObject(expected as object);
    expect(issues[0]?.message.length).toBeGreaterThan(10);
  });

  it('judges only structurally sound Capps (one list of issues, the structural ones first)', () => {
    const capp = corpusCapp({ ports: [{ name: 'web', containerPort: 8080 }] }, { minReplicas: -1 });
    expect(validateCapp(capp).map((i) => i.rule)).toEqual(['minimum']);
    expect(validateCapp(corpusCapp({ stdin: true }), { knative: false })).toEqual([]);
  });
});

describe('cluster settings', () => {
  it('reads the features the cluster turned on (a gated field passes once enabled or allowed)', () => {
    const capp = corpusCapp({}, {}, { podSpec: { nodeSelector: { disk: 'ssd' } } });
    expect(knativeIssues(capp).map((i) => i.rule)).toEqual(['knative.featureDisabled']);
    for (const value of ['enabled', 'Allowed']) {
      const settings = knativeSettings({
        features: { ...PLATFORM_KNATIVE_FEATURES, 'kubernetes.podspec-nodeselector': value },
      });
      expect(knativeIssues(capp, settings)).toEqual([]);
    }
  });

  it('takes the maximum timeout, the concurrency limit and autoscaler limits from the ConfigMaps', () => {
    const capp = corpusCapp({}, { routeSpec: { routeTimeoutSeconds: 900 }, maxReplicas: 50 }, {});
    expect(knativeIssues(capp).map((i) => i.path)).toEqual(['spec.routeSpec.routeTimeoutSeconds']);
    const settings = knativeSettings({
      features: PLATFORM_KNATIVE_FEATURES,
      defaults: { 'max-revision-timeout-seconds': '1200' },
      autoscaler: { 'max-scale-limit': '20' },
    });
    expect(knativeIssues(capp, settings)).toEqual([
      expect.objectContaining({ path: 'spec.maxReplicas', rule: 'knative.autoscaling' }),
    ]);
  });

  it('turns off PVC volumes when the cluster has not enabled them, naming the feature', () => {
    const capp = corpusCapp(
      { volumeMounts: [{ name: 'data', mountPath: '/data' }] },
      {
        volumesSpec: {
          nfsVolumes: [{ name: 'data', server: 's', path: '/p', capacity: { storage: '1Gi' } }],
        },
      },
    );
    expect(knativeIssues(capp, PLATFORM_KNATIVE_SETTINGS)).toEqual([]);
    const issues = knativeIssues(capp, knativeSettings());
    expect(issues[0]).toMatchObject({
      path: 'spec.volumesSpec.nfsVolumes[0]',
      rule: 'knative.featureDisabled',
    });
    expect(issues[0]?.message).toContain('kubernetes.podspec-persistent-volume-claim');
  });

  it('refuses a ConfigMap Serving itself would refuse', () => {
    expect(() => knativeSettings({ defaults: { 'revision-timeout-seconds': '900' } })).toThrow(
      /cannot be greater than max-revision-timeout-seconds/,
    );
    expect(() => knativeSettings({ autoscaler: { 'max-scale-limit': 'many' } })).toThrow(/max-scale-limit/);
  });
});

describe('the Go semantics the rules rely on', () => {
  it.each([
    ['60s', 60e9],
    ['1m30s', 90e9],
    ['1.5h', 5400e9],
    ['100ms', 100e6],
    ['-1s', -1e9],
    ['0', 0],
  ])('parses the duration %s', (text, ns) => {
    expect(parseGoDuration(text)).toBe(ns);
  });

  it.each(['', '60', 'soon', '1x', 's', '.s'])('refuses the duration %j', (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });

  it.each([
    ['nginx', true],
    ['nginx:1.27', true],
    ['ghcr.io/dana-team/capp-gin-app:v0.2.0', true],
    ['localhost:5000/app@sha256:' + 'a'.repeat(64), true],
    ['Nginx', false],
    ['nginx:', true],
    ['nginx:bad tag', false],
    ['a:1', false],
    ['ab:1', true],
    ['nginx@sha256:abc', false],
    ['a b', false],
  ])('judges the image reference %s as %s', (image, ok) => {
    expect(isImageReference(image)).toBe(ok);
  });

  it.each([
    ['/dev/', '/dev'],
    ['/var/../dev/log', '/dev/log'],
    ['/a//b/./c', '/a/b/c'],
    ['/', '/'],
  ])('cleans the path %s to %s', (p, clean) => {
    expect(cleanPath(p)).toBe(clean);
  });
});
