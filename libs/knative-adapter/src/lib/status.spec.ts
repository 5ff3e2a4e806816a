import { Capp, CappSpec, CappStatus, Condition, KubeObject } from '@capp/capp-model';

import { renderChildren } from './render';
import { childKey, LoggingBackend } from './resources';
import { computeStatus, statusEqual } from './status';
import { AUTOSCALE, DNS, makeCapp } from './test-fixtures';
import { DesiredChild, ObservedChild } from './types';

const T0 = '2024-01-01T00:00:00Z';
const T1 = '2024-01-01T00:05:00Z';
const ready = [{ type: 'Ready', status: 'True', lastTransitionTime: T0 }];

/** What each child's controller writes once it has done its job. */
function readyStatus(child: DesiredChild): Record<string, unknown> {
  switch (child.kind) {
    case 'Service':
      return {
        url: `https://${child.metadata.name}.team-a.example.com`,
        latestReadyRevisionName: `${child.metadata.name}-00001`,
        latestCreatedRevisionName: `${child.metadata.name}-00001`,
        conditions: ready,
      };
    case 'DomainMapping':
      return { url: `https://${child.metadata.name}`, conditions: ready };
    case 'CNAMERecord':
      return { conditions: [...ready, { type: 'Synced', status: 'True', lastTransitionTime: T0 }] };
    case 'NfsPvc':
      return { pvPhase: 'Bound', pvcPhase: 'Bound' };
    case 'Output':
    case 'Flow':
    case 'SyslogNGOutput':
    case 'SyslogNGFlow':
      return { active: true, problemsCount: 0 };
    default:
      return { conditions: ready };
  }
}

type Overrides = Record<string, ObservedChild | ((o: KubeObject) => void)>;

/** Every desired child observed ready, except where `overrides` (by kind) says otherwise. */
function observe(desired: readonly DesiredChild[], overrides: Overrides = {}): Map<string, ObservedChild> {
  const map = new Map<string, ObservedChild>();
  for (const child of desired) {
    const object: KubeObject = { ...structuredClone(child), status: readyStatus(child) };
    const override = overrides[child.kind];
    if (typeof override === 'function') override(object);
    map.set(childKey(child), typeof override === 'object' ? override : { object });
  }
  return map;
}

const full: Partial<CappSpec> = {
  routeSpec: { hostname: 'shop', tlsEnabled: true },
  volumesSpec: { nfsVolumes: [{ name: 'data', server: 'nfs1', path: '/a', capacity: { storage: '1Gi' } }] },
  logSpec: { type: 'splunk', host: 'hec', index: 'apps', hecTokenSecret: 'hec-token' },
};

function statusOf(
  capp: Capp,
  overrides: Overrides = {},
  previous?: CappStatus,
  now = T1,
  loggingBackend: LoggingBackend = 'fluentd',
): { status: CappStatus; desired: DesiredChild[] } {
  const desired = renderChildren(
    capp,
    { autoscale: AUTOSCALE, dns: DNS, loggingBackend },
    { tlsSecretReady: true },
  );
  return {
    status: computeStatus({ capp, desired, observed: observe(desired, overrides), previous, now }),
    desired,
  };
}

const condition = (status: CappStatus, type: string): Condition | undefined =>
  status.conditions?.find((c) => c.type === type);

describe('computeStatus', () => {
  it('reports Ready with the https URL of the custom domain when every child is ready', () => {
    const { status, desired } = statusOf(makeCapp(full, { generation: 4 }));
    expect(status.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'True', 'Ready'],
      ['KnativeServiceReady', 'True', 'Ready'],
      ['RouteReady', 'True', 'Ready'],
      ['LoggingReady', 'True', 'Ready'],
      ['VolumesReady', 'True', 'Ready'],
    ]);
    expect(status.observedGeneration).toBe(4);
    expect(status.url).toBe('https://shop.apps.example.com');
    expect(status.knativeObjectStatus).toEqual({
      url: 'https://web.team-a.example.com',
      latestReadyRevisionName: 'web-00001',
      latestCreatedRevisionName: 'web-00001',
      conditions: ready,
    });
    expect(status.routeStatus).toEqual({
      hostname: 'shop.apps.example.com',
      domainMappingUrl: 'https://shop.apps.example.com',
      tlsSecretName: 'shop.apps.example.com-tls',
      resources: [
        { kind: 'Certificate', name: 'shop.apps.example.com', ready: 'True' },
        { kind: 'DomainMapping', name: 'shop.apps.example.com', ready: 'True' },
        { kind: 'CNAMERecord', name: 'shop.apps.example.com', ready: 'True' },
      ],
      domainMappingObjectStatus: { url: 'https://shop.apps.example.com', conditions: ready },
      dnsRecordObjectStatus: {
        cnameRecordObjectStatus: {
          conditions: [...ready, { type: 'Synced', status: 'True', lastTransitionTime: T0 }],
        },
      },
      certificateObjectStatus: { conditions: ready },
    });
    expect(status.loggingStatus).toEqual({
      type: 'splunk',
      resources: [
        { kind: 'Output', name: 'web-splunk', ready: 'True' },
        { kind: 'Flow', name: 'web', ready: 'True' },
      ],
      output: { active: true, problemsCount: 0 },
      flow: { active: true, problemsCount: 0 },
      conditions: [
        { type: 'LoggingIsReady', status: 'True', reason: 'ready', message: '', lastTransitionTime: T1 },
      ],
    });
    expect(status.volumesStatus).toEqual({
      resources: [{ kind: 'NfsPvc', name: 'data', ready: 'True' }],
      nfsVolumesStatus: [{ volumeName: 'data', nfsPvcStatus: { pvPhase: 'Bound', pvcPhase: 'Bound' } }],
    });
    expect(status.managedResources).toEqual(
      desired.map((c) =>
        expect.objectContaining({ apiVersion: c.apiVersion, kind: c.kind, name: c.metadata.name }),
      ),
    );
  });

  it('uses http for a custom domain without TLS, and the Knative URL without a custom domain', () => {
    expect(statusOf(makeCapp({ routeSpec: { hostname: 'shop' } })).status.url).toBe(
      'http://shop.apps.example.com',
    );
    const { status } = statusOf(makeCapp());
    expect(status.url).toBe('https://web.team-a.example.com');
    expect(status).not.toHaveProperty('routeStatus');
  });

  it.each([
    ['RouteReady', 'NoCustomHostname'],
    ['LoggingReady', 'NotConfigured'],
    ['VolumesReady', 'NotConfigured'],
  ])('marks %s True with reason %s when the part is not used', (type, reason) => {
    expect(condition(statusOf(makeCapp()).status, type)).toMatchObject({ status: 'True', reason });
  });

  describe('a disabled Capp', () => {
    it('is Ready with reason Disabled, its Knative Service removed', () => {
      const { status } = statusOf(makeCapp({ ...full, state: 'disabled' }));
      expect(condition(status, 'Ready')).toMatchObject({ status: 'True', reason: 'Disabled' });
      expect(condition(status, 'Ready')?.message).toMatch(/Knative Service is removed/);
      expect(condition(status, 'KnativeServiceReady')).toMatchObject({ status: 'True', reason: 'Disabled' });
      expect(status).not.toHaveProperty('knativeObjectStatus');
      expect(status.url).toBe('https://shop.apps.example.com');
    });

    it('stays Ready/Disabled while another part is still coming up', () => {
      const { status } = statusOf(makeCapp({ ...full, state: 'disabled' }), {
        NfsPvc: (o) => (o.status = {}),
      });
      expect(condition(status, 'VolumesReady')?.status).toBe('Unknown');
      expect(condition(status, 'Ready')).toMatchObject({ status: 'True', reason: 'Disabled' });
    });

    it('is not Ready when another part failed', () => {
      const { status } = statusOf(makeCapp({ ...full, state: 'disabled' }), { Flow: { error: 'denied' } });
      expect(condition(status, 'Ready')).toMatchObject({ status: 'False', reason: 'ApplyFailed' });
    });
  });

  it.each([
    ['Service', 'web', 'KnativeServiceReady'],
    ['Certificate', 'shop.apps.example.com', 'RouteReady'],
    ['CNAMERecord', 'shop.apps.example.com', 'RouteReady'],
    ['Output', 'web-splunk', 'LoggingReady'],
    ['NfsPvc', 'data', 'VolumesReady'],
  ])(
    'marks the part False with ApplyFailed, naming the child, when the API server rejects the %s',
    (kind, name, type) => {
      const error = 'admission webhook "x" denied the request: nope';
      const { status } = statusOf(makeCapp(full), { [kind]: { error } });
      const expected = {
        status: 'False',
        reason: 'ApplyFailed',
        message: `${kind} ${name}: rejected by the API server: ${error}`,
      };
      expect(condition(status, type)).toMatchObject(expected);
      expect(condition(status, 'Ready')).toMatchObject(expected);
    },
  );

  it('waits (Unknown, Pending) for a Knative Service that does not exist yet', () => {
    const { status } = statusOf(makeCapp(), { Service: {} });
    expect(condition(status, 'KnativeServiceReady')).toMatchObject({ status: 'Unknown', reason: 'Pending' });
    expect(condition(status, 'Ready')).toMatchObject({ status: 'Unknown', reason: 'Pending' });
    expect(status.url).toBeUndefined();
  });

  it("takes the Knative Service's own reason and message when it is not ready", () => {
    const { status } = statusOf(makeCapp(), {
      Service: (o) => {
        o.status = {
          conditions: [
            { type: 'Ready', status: 'False', reason: 'RevisionFailed', message: 'image pull failed' },
          ],
        };
      },
    });
    expect(condition(status, 'KnativeServiceReady')).toMatchObject({
      status: 'False',
      reason: 'RevisionFailed',
      message: 'Service web: image pull failed',
    });
  });

  it('does not trust a status the child controller wrote for an older generation', () => {
    const { status } = statusOf(makeCapp(), {
      Service: (o) => {
        o.metadata.generation = 3;
        o.status = { ...o.status, observedGeneration: 2 };
      },
    });
    expect(condition(status, 'KnativeServiceReady')).toMatchObject({
      status: 'Unknown',
      reason: 'Reconciling',
    });
  });

  it('needs the CNAMERecord both Synced and Ready', () => {
    const { status } = statusOf(makeCapp(full), {
      CNAMERecord: (o) => {
        o.status = {
          conditions: [
            { type: 'Ready', status: 'True' },
            { type: 'Synced', status: 'False', reason: 'ReconcileError', message: 'zone not found' },
          ],
        };
      },
    });
    expect(condition(status, 'RouteReady')).toMatchObject({
      status: 'False',
      reason: 'ReconcileError',
      message: 'CNAMERecord shop.apps.example.com: zone not found',
    });
    expect(status.routeStatus?.resources?.[2]).toMatchObject({ kind: 'CNAMERecord', ready: 'False' });
  });

  it('waits for the Certificate before the route is ready', () => {
    const { status } = statusOf(makeCapp(full), {
      Certificate: (o) => {
        o.status = {
          conditions: [{ type: 'Ready', status: 'False', reason: 'Issuing', message: 'issuing' }],
        };
      },
    });
    expect(condition(status, 'RouteReady')).toMatchObject({ status: 'False', reason: 'Issuing' });
  });

  it('reports logging problems the logging-operator found', () => {
    const { status } = statusOf(makeCapp(full), {
      Output: (o) => {
        o.status = { active: true, problems: ['secret hec-token not found'], problemsCount: 1 };
      },
    });
    expect(condition(status, 'LoggingReady')).toMatchObject({
      status: 'False',
      message: 'Output web-splunk: secret hec-token not found',
    });
  });

  it("embeds the Knative Service's whole status as knativeObjectStatus, as v0.3.5 does", () => {
    const extra = {
      observedGeneration: 3,
      traffic: [{ revisionName: 'web-00001', latestRevision: true, percent: 100 }],
      address: { url: 'http://web.team-a.svc.cluster.local' },
    };
    const { status } = statusOf(makeCapp(), { Service: (o) => Object.assign(o.status ?? {}, extra) });
    expect(status.knativeObjectStatus).toMatchObject({ latestReadyRevisionName: 'web-00001', ...extra });
  });

  it('embeds no status of a child not seen yet, nor a Certificate status without TLS', () => {
    const { status } = statusOf(makeCapp({ ...full, routeSpec: { hostname: 'shop' } }), {
      DomainMapping: {},
      NfsPvc: {},
      Flow: {},
    });
    expect(status.routeStatus).not.toHaveProperty('domainMappingObjectStatus');
    expect(status.routeStatus).not.toHaveProperty('certificateObjectStatus');
    expect(status.routeStatus?.dnsRecordObjectStatus?.cnameRecordObjectStatus).toBeDefined();
    expect(status.volumesStatus?.nfsVolumesStatus).toEqual([{ volumeName: 'data' }]);
    expect(status.loggingStatus).not.toHaveProperty('flow');
    expect(status.loggingStatus?.['output']).toEqual({ active: true, problemsCount: 0 });
  });

  it("turns v0.3.5's LoggingIsReady False on problems, keeping its transition time while it holds", () => {
    const problems = {
      Flow: (o: KubeObject): void => {
        o.status = { active: true, problems: ['bad match'], problemsCount: 1 };
      },
    };
    const first = statusOf(makeCapp(full), problems, undefined, T0).status;
    const isReady = (s: CappStatus): Condition | undefined =>
      s.loggingStatus?.conditions?.find((c) => c.type === 'LoggingIsReady');
    expect(isReady(first)).toEqual({
      type: 'LoggingIsReady',
      status: 'False',
      reason: 'LoggingResourceInvalid',
      message: '',
      lastTransitionTime: T0,
    });
    expect(isReady(statusOf(makeCapp(full), problems, first, T1).status)?.lastTransitionTime).toBe(T0);
    expect(isReady(statusOf(makeCapp(full), {}, first, T1).status)).toMatchObject({
      status: 'True',
      lastTransitionTime: T1,
    });
  });

  describe('with the syslog-ng logging backend', () => {
    const elastic: Partial<CappSpec> = {
      logSpec: { type: 'elastic', host: 'es', index: 'main', user: 'elastic', passwordSecret: 'creds' },
    };

    it('is LoggingReady once the SyslogNGOutput and SyslogNGFlow are active without problems', () => {
      const { status } = statusOf(makeCapp(elastic), {}, undefined, T1, 'syslog-ng');
      expect(condition(status, 'LoggingReady')).toMatchObject({
        status: 'True',
        message: 'logs ship to elastic',
      });
      expect(status.loggingStatus).toEqual({
        type: 'elastic',
        resources: [
          { kind: 'SyslogNGOutput', name: 'web', ready: 'True' },
          { kind: 'SyslogNGFlow', name: 'web', ready: 'True' },
        ],
        // v0.3.5's keys: the SyslogNG kinds' own status, and LoggingIsReady.
        syslogngoutput: { active: true, problemsCount: 0 },
        syslogngflow: { active: true, problemsCount: 0 },
        conditions: [
          { type: 'LoggingIsReady', status: 'True', reason: 'ready', message: '', lastTransitionTime: T1 },
        ],
      });
    });

    it('reports the problems the logging-operator found in them, and waits while they are inactive', () => {
      const problem = statusOf(
        makeCapp(elastic),
        { SyslogNGOutput: (o) => (o.status = { active: true, problems: ['bad url'], problemsCount: 1 }) },
        undefined,
        T1,
        'syslog-ng',
      ).status;
      expect(condition(problem, 'LoggingReady')).toMatchObject({
        status: 'False',
        reason: 'Problems',
        message: 'SyslogNGOutput web: bad url',
      });
      const inactive = statusOf(
        makeCapp(elastic),
        { SyslogNGFlow: (o) => (o.status = {}) },
        undefined,
        T1,
        'syslog-ng',
      ).status;
      expect(condition(inactive, 'LoggingReady')).toMatchObject({ status: 'Unknown', reason: 'Inactive' });
    });
  });

  it.each([
    ['Pending', 'Unknown'],
    ['Lost', 'False'],
    ['Bound', 'True'],
  ])('reads an NfsPvc whose PVC is %s as %s', (phase, expected) => {
    const { status } = statusOf(makeCapp(full), { NfsPvc: (o) => (o.status = { pvcPhase: phase }) });
    expect(condition(status, 'VolumesReady')?.status).toBe(expected);
  });

  it('marks the route False when the Capp has a hostname but nothing was rendered for it', () => {
    const capp = makeCapp({ routeSpec: { hostname: 'shop' } });
    const status = computeStatus({ capp, desired: [], observed: new Map(), now: T0 });
    expect(condition(status, 'RouteReady')).toMatchObject({ status: 'False', reason: 'NotRendered' });
  });

  describe('over successive reconciles', () => {
    it('keeps lastTransitionTime of the conditions that did not change', () => {
      const first = statusOf(
        makeCapp(full),
        { NfsPvc: (o) => (o.status = { pvcPhase: 'Pending' }) },
        undefined,
        T0,
      ).status;
      const second = statusOf(makeCapp(full), {}, first, T1).status;
      expect(condition(second, 'RouteReady')?.lastTransitionTime).toBe(T0);
      expect(condition(second, 'VolumesReady')?.lastTransitionTime).toBe(T1);
      expect(condition(second, 'Ready')?.lastTransitionTime).toBe(T1);
    });

    it('sets stateStatus.lastChange the first time and only when the state changes', () => {
      const first = statusOf(makeCapp(), {}, undefined, T0).status;
      expect(first.stateStatus).toEqual({ state: 'enabled', lastChange: T0 });
      const same = statusOf(makeCapp(), {}, first, T1).status;
      expect(same.stateStatus).toEqual({ state: 'enabled', lastChange: T0 });
      const disabled = statusOf(makeCapp({ state: 'disabled' }), {}, same, T1).status;
      expect(disabled.stateStatus).toEqual({ state: 'disabled', lastChange: T1 });
    });

    it('is unchanged (statusEqual) when nothing changed, so the operator can skip the write', () => {
      const first = statusOf(makeCapp(full), {}, undefined, T0).status;
      const stored = JSON.parse(JSON.stringify(first)) as CappStatus;
      const again = statusOf(makeCapp(full), {}, stored, T1).status;
      expect(statusEqual(again, stored)).toBe(true);
      expect(again).toEqual(stored);
    });

    it('keeps status fields it does not own, such as those container-app-operator v0.3 wrote', () => {
      const previous = {
        revisions: [{ revisionName: 'web-00001' }],
        applicationLinks: { site: 'a' },
      } as CappStatus;
      const { status } = statusOf(makeCapp(), {}, previous);
      expect(status).toMatchObject(previous as Record<string, unknown>);
    });
  });
});

describe('statusEqual', () => {
  const a: CappStatus = {
    url: 'http://x',
    stateStatus: { state: 'enabled', lastChange: T0 },
    managedResources: [],
  };

  it('ignores key order (and keys holding undefined)', () => {
    const b = {
      managedResources: [],
      stateStatus: { lastChange: T0, state: 'enabled' },
      url: 'http://x',
      routeStatus: undefined,
    };
    expect(statusEqual(a, b as CappStatus)).toBe(true);
  });

  it('sees a difference when an array is reordered', () => {
    const x = { apiVersion: 'v1', kind: 'A', name: 'x' };
    const y = { apiVersion: 'v1', kind: 'A', name: 'y' };
    expect(statusEqual({ managedResources: [x, y] }, { managedResources: [y, x] })).toBe(false);
  });

  it.each([
    ['a value differs', { ...a, url: 'http://y' }],
    ['a nested value differs', { ...a, stateStatus: { state: 'disabled', lastChange: T0 } }],
    ['an array gains an item', { ...a, managedResources: [{ apiVersion: 'v1', kind: 'A', name: 'a' }] }],
    ['a key is missing', { url: 'http://x', stateStatus: a.stateStatus }],
  ])('sees a difference when %s', (_title, b) => {
    expect(statusEqual(a, b as CappStatus)).toBe(false);
  });
});
