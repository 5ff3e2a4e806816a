import type { Capp, HealthScope } from '@capp/capp-model';

import {
  aggregate,
  effectiveProbe,
  healthEvent,
  isSuccessStatus,
  judgeMember,
  membersOf,
  type ProbeRecord,
  probeUrl,
  scopeStatus,
  scopeStatusEqual,
  type Verdict,
} from './evaluate';

const T0 = '2026-11-30T10:00:00Z';
const T1 = '2026-11-30T10:05:00Z';

function capp(
  name: string,
  opts: {
    ready?: 'True' | 'False' | 'Unknown';
    labels?: Record<string, string>;
    disabled?: boolean;
    url?: string;
  } = {},
): Capp {
  return {
    apiVersion: 'rcs.dana.io/v1alpha1',
    kind: 'Capp',
    metadata: { name, namespace: 'shop', labels: opts.labels },
    spec: {
      configurationSpec: { template: { spec: { containers: [{ image: 'x' }] } } },
      ...(opts.disabled ? { state: 'disabled' as const } : {}),
    },
    status: {
      ...(opts.url ? { url: opts.url } : {}),
      conditions: opts.ready
        ? [
            {
              type: 'Ready',
              status: opts.ready,
              reason: opts.ready === 'False' ? 'RevisionFailed' : 'Ready',
              message: opts.ready === 'False' ? 'image pull failed' : '',
              lastTransitionTime: T0,
            },
          ]
        : [],
    },
  };
}

function scope(spec: HealthScope['spec'], status?: HealthScope['status']): HealthScope {
  return {
    apiVersion: 'rcs.dana.io/v1alpha1',
    kind: 'HealthScope',
    metadata: { name: 'shop', namespace: 'shop', generation: 1 },
    spec,
    status,
  };
}

const probe = effectiveProbe({ path: '/healthz', failureThreshold: 2 });
const record = (
  ok: boolean,
  failures: number,
  status = ok ? '200' : '500',
  lastSuccess?: boolean,
): ProbeRecord => ({
  url: 'http://127.0.0.1:1/healthz',
  last: { ok, status, latencyMs: 3, message: `HTTP ${status} from GET /healthz` },
  failures,
  at: 0,
  ...(lastSuccess
    ? { lastSuccess: { ok: true, status: '200', latencyMs: 2, message: 'HTTP 200 from GET /healthz' } }
    : {}),
});

describe('membersOf', () => {
  it('takes cappRefs and selector matches together, sorted, naming missing Capps too', () => {
    const capps = [
      capp('web', { labels: { app: 'shop' } }),
      capp('api', { labels: { app: 'shop' } }),
      capp('other'),
    ];
    const members = membersOf(
      scope({ cappRefs: ['worker', 'api'], selector: { matchLabels: { app: 'shop' } } }),
      capps,
    );
    expect(members.map((m) => [m.name, m.capp !== undefined])).toEqual([
      ['api', true],
      ['web', true],
      ['worker', false],
    ]);
  });

  it('drops a selected Capp being deleted, but keeps a named one', () => {
    const going = capp('web', { labels: { app: 'shop' } });
    going.metadata.deletionTimestamp = T0;
    const also = {
      ...capp('api', { labels: { app: 'shop' } }),
      metadata: { ...going.metadata, name: 'api' },
    };
    const members = membersOf(scope({ cappRefs: ['api'], selector: { matchLabels: { app: 'shop' } } }), [
      going,
      also,
    ]);
    expect(members.map((m) => m.name)).toEqual(['api']);
    expect(judgeMember(members[0], undefined, undefined)).toMatchObject({
      health: 'Unhealthy',
      reason: 'Terminating',
    });
  });
});

describe('judgeMember', () => {
  it.each<[string, Parameters<typeof judgeMember>, Partial<Verdict>]>([
    [
      'a missing Capp is Unhealthy, NotFound',
      [{ name: 'x' }, undefined, undefined],
      { health: 'Unhealthy', reason: 'NotFound' },
    ],
    [
      'a disabled Capp is Disabled, not unhealthy',
      [{ name: 'x', capp: capp('x', { ready: 'True', disabled: true }) }, undefined, undefined],
      { health: 'Disabled' },
    ],
    [
      'a Capp not Ready is Unhealthy with its reason',
      [{ name: 'x', capp: capp('x', { ready: 'False' }) }, undefined, undefined],
      { health: 'Unhealthy', reason: 'RevisionFailed', message: 'image pull failed' },
    ],
    [
      'a Capp without a Ready condition is Unknown',
      [{ name: 'x', capp: capp('x') }, undefined, undefined],
      { health: 'Unknown', reason: 'NotReconciled' },
    ],
    [
      'a Ready Capp without a probe is Healthy',
      [{ name: 'x', capp: capp('x', { ready: 'True' }) }, undefined, undefined],
      { health: 'Healthy', reason: 'Ready' },
    ],
    [
      'a Ready Capp not probed yet is Unknown',
      [{ name: 'x', capp: capp('x', { ready: 'True', url: 'http://a' }) }, probe, undefined],
      { health: 'Unknown', reason: 'ProbePending' },
    ],
    [
      'a passing probe is Healthy',
      [{ name: 'x', capp: capp('x', { ready: 'True', url: 'http://a' }) }, probe, record(true, 0)],
      { health: 'Healthy', reason: 'ProbeSucceeded', probe: { status: '200', latencyMs: 3 } },
    ],
    [
      'one failure under the threshold keeps the last success',
      [
        { name: 'x', capp: capp('x', { ready: 'True', url: 'http://a' }) },
        probe,
        record(false, 1, '500', true),
      ],
      { health: 'Healthy', reason: 'ProbeSucceeded' },
    ],
    [
      'failures at the threshold are Unhealthy',
      [{ name: 'x', capp: capp('x', { ready: 'True', url: 'http://a' }) }, probe, record(false, 2)],
      { health: 'Unhealthy', reason: 'ProbeFailed' },
    ],
    [
      'a timeout is named',
      [
        { name: 'x', capp: capp('x', { ready: 'True', url: 'http://a' }) },
        probe,
        record(false, 2, 'Timeout'),
      ],
      { health: 'Unhealthy', reason: 'ProbeTimeout' },
    ],
    [
      'a refused connection is named',
      [
        { name: 'x', capp: capp('x', { ready: 'True', url: 'http://a' }) },
        probe,
        record(false, 2, 'ConnectionRefused'),
      ],
      { health: 'Unhealthy', reason: 'ProbeConnectionRefused' },
    ],
  ])('%s', (_name, args, expected) => {
    expect(judgeMember(...args)).toMatchObject(expected);
  });
});

describe('aggregate', () => {
  const v = (health: Verdict['health']): Verdict => ({ health, reason: '', message: '' });
  it.each<[string, Verdict['health'][], 'unhealthy' | 'ignored', string]>([
    ['no members', [], 'unhealthy', 'Empty'],
    ['only disabled members', ['Disabled'], 'unhealthy', 'Empty'],
    ['all healthy (disabled ones aside)', ['Healthy', 'Disabled'], 'unhealthy', 'Healthy'],
    ['one unhealthy', ['Healthy', 'Unhealthy'], 'ignored', 'Unhealthy'],
    ['an unknown one counted as unhealthy', ['Healthy', 'Unknown'], 'unhealthy', 'Unhealthy'],
    ['an unknown one ignored', ['Healthy', 'Unknown'], 'ignored', 'Healthy'],
    ['only unknown ones, ignored', ['Unknown'], 'ignored', 'Unknown'],
  ])('%s', (_name, healths, unknownIs, expected) => {
    expect(aggregate(healths.map(v), unknownIs)).toBe(expected);
  });
});

function must<T>(v: T | undefined): T {
  if (v === undefined) throw new Error('undefined');
  return v;
}

describe('probeUrl', () => {
  it('keeps the host of the Capp URL and takes only the path and port of the probe', () => {
    const c = capp('x', { url: 'https://x.apps.example.com' });
    expect(probeUrl(c, must(effectiveProbe({ path: '/healthz?full=1', port: 8443 })))).toBe(
      'https://x.apps.example.com:8443/healthz?full=1',
    );
    expect(probeUrl(c, must(effectiveProbe({ path: '//evil.example.com/x' })))).toMatch(
      /^https:\/\/x\.apps\.example\.com\//,
    );
  });

  it('has no URL for a Capp without one', () => {
    expect(probeUrl(capp('x'), must(effectiveProbe({})))).toBeUndefined();
  });
});

describe('isSuccessStatus', () => {
  it('takes codes and classes', () => {
    expect(isSuccessStatus(204, ['2xx'])).toBe(true);
    expect(isSuccessStatus(301, ['2xx'])).toBe(false);
    expect(isSuccessStatus(301, ['2xx', '301'])).toBe(true);
  });
});

describe('scopeStatus', () => {
  const members = [
    { name: 'api', capp: capp('api', { ready: 'True' }) },
    { name: 'web', capp: capp('web', { ready: 'False' }) },
  ];
  const verdicts: Verdict[] = [
    { health: 'Healthy', reason: 'Ready', message: 'the Capp is ready' },
    { health: 'Unhealthy', reason: 'RevisionFailed', message: 'image pull failed' },
  ];

  it('counts, names each member and says why the scope is unhealthy', () => {
    const s = scopeStatus(scope({ cappRefs: ['api', 'web'] }), members, verdicts, T0);
    expect(s).toMatchObject({
      health: 'Unhealthy',
      total: 2,
      healthy: 1,
      unhealthy: 1,
      unknown: 0,
      disabled: 0,
      lastChanged: T0,
      observedGeneration: 1,
    });
    expect(s.capps?.[1]).toEqual({
      name: 'web',
      health: 'Unhealthy',
      reason: 'RevisionFailed',
      message: 'image pull failed',
      since: T0,
    });
    expect(s.conditions?.[0]).toMatchObject({
      type: 'Healthy',
      status: 'False',
      message: 'web: RevisionFailed (image pull failed)',
    });
  });

  it('is equal when nothing changed later (no write), keeping since and lastChanged', () => {
    const first = scopeStatus(scope({ cappRefs: ['api', 'web'] }), members, verdicts, T0);
    const again = scopeStatus(scope({ cappRefs: ['api', 'web'] }, first), members, verdicts, T1);
    expect(scopeStatusEqual(again, first)).toBe(true);
  });

  it('keeps the deciding probe while the verdict stands (latencies do not rewrite the status)', () => {
    const one = [{ name: 'api', capp: capp('api', { ready: 'True', url: 'http://a' }) }];
    const first = scopeStatus(
      scope({ cappRefs: ['api'] }),
      one,
      [
        {
          health: 'Healthy',
          reason: 'ProbeSucceeded',
          message: 'HTTP 200',
          probe: { status: '200', latencyMs: 3 },
        },
      ],
      T0,
    );
    const later = scopeStatus(
      scope({ cappRefs: ['api'] }, first),
      one,
      [
        {
          health: 'Healthy',
          reason: 'ProbeSucceeded',
          message: 'HTTP 200',
          probe: { status: '200', latencyMs: 9 },
        },
      ],
      T1,
    );
    expect(scopeStatusEqual(later, first)).toBe(true);
  });
});

describe('healthEvent', () => {
  const status = (health: 'Healthy' | 'Unhealthy'): ReturnType<typeof scopeStatus> => ({
    health,
    healthy: 1,
    capps: [
      {
        name: 'web',
        health: health === 'Healthy' ? 'Healthy' : 'Unhealthy',
        reason: 'ProbeFailed',
        message: 'HTTP 500',
        since: T0,
      },
    ],
  });
  it('warns BecameUnhealthy naming the members and reasons, then Recovered', () => {
    expect(healthEvent('Healthy', status('Unhealthy'))).toEqual({
      type: 'Warning',
      reason: 'BecameUnhealthy',
      message: 'unhealthy: web: ProbeFailed (HTTP 500)',
    });
    expect(healthEvent('Unhealthy', status('Healthy'))).toMatchObject({
      type: 'Normal',
      reason: 'Recovered',
    });
    expect(healthEvent('Healthy', status('Healthy'))).toBeUndefined();
    expect(healthEvent(undefined, status('Healthy'))).toBeUndefined();
  });
});
