import type { KubeObject } from '@capp/capp-model';

import {
  ANNOTATION_TEMPLATE_HASH,
  configurationFor,
  LABEL_SERVICE,
  nextRevision,
  observations,
  ownedRevisions,
  playedStatus,
  revisionNeeds,
  revisionNumber,
  revisionStatus,
  revisionVerdict,
  serviceStatus,
  statusHolds,
  tlsSecretFor,
  withTransitions,
} from './play';

const NOW = '2026-01-01T00:00:00Z';
const LATER = '2026-01-01T00:05:00Z';

function ksvc(template: Record<string, unknown>, uid = 'uid-1', generation = 1): KubeObject {
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name: 'app', namespace: 'ns', uid, generation },
    spec: { template },
  };
}

const template = (image: string, env: unknown[] = []): Record<string, unknown> => ({
  metadata: { annotations: { 'autoscaling.knative.dev/metric': 'cpu' } },
  spec: { containers: [{ name: 'app', image, env }] },
});

/** The Revision the player creates, with the status it then writes. */
function cut(service: KubeObject, owned: KubeObject[], ready = true): KubeObject {
  const rev = nextRevision(service, owned);
  if (!rev) throw new Error('expected a new revision');
  const stored = { ...rev, metadata: { ...rev.metadata, generation: 1 } };
  return { ...stored, status: revisionStatus(stored, { ready, reason: 'X', message: 'm' }, NOW) };
}

describe('the Knative Serving the player plays', () => {
  it('cuts the first Revision <service>-00001 from the template, controlled by the Service', () => {
    const rev = nextRevision(ksvc(template('img:1')), []);
    expect(rev?.metadata.name).toBe('app-00001');
    expect(rev?.metadata.labels?.[LABEL_SERVICE]).toBe('app');
    expect(rev?.metadata.annotations?.['autoscaling.knative.dev/metric']).toBe('cpu');
    expect(rev?.metadata.ownerReferences).toEqual([
      expect.objectContaining({ uid: 'uid-1', controller: true }),
    ]);
    expect(rev?.spec).toEqual({ containers: [{ name: 'app', image: 'img:1', env: [] }] });
  });

  it('cuts no Revision while the template is unchanged, and the next number when it changes', () => {
    const first = cut(ksvc(template('img:1')), []);
    expect(nextRevision(ksvc(template('img:1'), 'uid-1', 2), [first])).toBeUndefined();
    expect(nextRevision(ksvc(template('img:2'), 'uid-1', 3), [first])?.metadata.name).toBe('app-00002');
  });

  it("counts only the Service's own Revisions: a recreated Service starts again at 00001", () => {
    const old = cut(ksvc(template('img:1'), 'old-uid'), []);
    const recreated = ksvc(template('img:1'), 'new-uid');
    const owned = ownedRevisions(recreated, [old]);
    expect(owned).toEqual([]);
    expect(nextRevision(recreated, owned)?.metadata.name).toBe('app-00001');
  });

  it('reads the sequence number from a Revision name', () => {
    expect(revisionNumber('capp-test-abc-00012')).toBe(12);
    expect(revisionNumber('no-number')).toBe(0);
  });

  it('fails a Revision whose image does not resolve, or whose Secret or key is missing', () => {
    const secretEnv = [{ name: 'P', valueFrom: { secretKeyRef: { name: 's', key: 'extra' } } }];
    const needs = revisionNeeds(cut(ksvc(template('img:1', secretEnv)), []));
    const missing = new Set(['example-python-app:v1']);
    expect(revisionVerdict(needs, () => new Set(['extra']), missing)).toEqual({ ready: true });
    expect(revisionVerdict(needs, () => undefined, missing)).toMatchObject({
      ready: false,
      message: 'secret "s" not found',
    });
    expect(revisionVerdict(needs, () => new Set(['username']), missing)).toMatchObject({
      ready: false,
      message: "couldn't find key extra in Secret s",
    });
    const badImage = revisionNeeds(cut(ksvc(template('example-python-app:v1')), []));
    expect(revisionVerdict(badImage, () => undefined, missing)).toMatchObject({
      ready: false,
      reason: 'ContainerMissing',
    });
  });

  it('ignores optional Secret references', () => {
    const env = [{ name: 'P', valueFrom: { secretKeyRef: { name: 's', key: 'k', optional: true } } }];
    expect(revisionNeeds(cut(ksvc(template('img', env)), [])).secrets.size).toBe(0);
  });

  it('reports a Revision Ready for its generation (what Revision.IsReady() checks)', () => {
    const rev = cut(ksvc(template('img:1')), []);
    expect(rev.status?.['observedGeneration']).toBe(1);
    expect(rev.status?.['conditions']).toContainEqual(
      expect.objectContaining({ type: 'Ready', status: 'True' }),
    );
  });

  it('keeps the latest ready Revision when the latest created one fails, and the Service not Ready', () => {
    const service = ksvc(template('img:1'));
    const first = cut(service, []);
    const second = cut(ksvc(template('bad'), 'uid-1', 2), [first], false);
    const status = serviceStatus(ksvc(template('bad'), 'uid-1', 2), [first, second], NOW);
    expect(status).toMatchObject({
      observedGeneration: 2,
      latestCreatedRevisionName: 'app-00002',
      latestReadyRevisionName: 'app-00001',
      traffic: [{ revisionName: 'app-00001', latestRevision: true, percent: 100 }],
    });
    expect(status['conditions']).toContainEqual(
      expect.objectContaining({ type: 'Ready', status: 'False', reason: 'RevisionFailed' }),
    );
  });

  it('reports the Service Ready on its latest Revision once that one is ready', () => {
    const first = cut(ksvc(template('img:1')), []);
    const second = cut(ksvc(template('img:2'), 'uid-1', 2), [first]);
    const status = serviceStatus(ksvc(template('img:2'), 'uid-1', 2), [second, first], NOW);
    expect(status).toMatchObject({
      latestCreatedRevisionName: 'app-00002',
      latestReadyRevisionName: 'app-00002',
    });
    expect(status['conditions']).toContainEqual(expect.objectContaining({ type: 'Ready', status: 'True' }));
  });

  it('writes a Service status only once: the same inputs later hold already', () => {
    const service = ksvc(template('img:1'));
    const first = cut(service, []);
    const written = { ...service, status: serviceStatus(service, [first], NOW) };
    expect(statusHolds(written.status, serviceStatus(written, [first], LATER))).toBe(true);
  });

  it('marks the template a Revision came from', () => {
    const rev = nextRevision(ksvc(template('img:1')), []);
    expect(rev?.metadata.annotations?.[ANNOTATION_TEMPLATE_HASH]).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('the other controllers the player plays', () => {
  const child = (apiVersion: string, kind: string, spec: Record<string, unknown> = {}): KubeObject => ({
    apiVersion,
    kind,
    metadata: { name: 'app.zone.com', namespace: 'ns', generation: 3 },
    spec,
  });

  it('gives a DomainMapping its url, https once it names a TLS Secret', () => {
    const dm = child('serving.knative.dev/v1beta1', 'DomainMapping');
    expect(playedStatus(dm, NOW)).toMatchObject({ url: 'http://app.zone.com', observedGeneration: 3 });
    const tls = child('serving.knative.dev/v1beta1', 'DomainMapping', { tls: { secretName: 's' } });
    expect(playedStatus(tls, NOW)).toMatchObject({ url: 'https://app.zone.com' });
  });

  it("makes a Certificate Ready for its generation, and cert-manager's TLS Secret", () => {
    const cert = child('cert-manager.io/v1', 'Certificate', { secretName: 'app.zone.com-tls' });
    expect(playedStatus(cert, NOW)?.['conditions']).toEqual([
      expect.objectContaining({ type: 'Ready', status: 'True', observedGeneration: 3 }),
    ]);
    expect(tlsSecretFor(cert)).toMatchObject({
      type: 'kubernetes.io/tls',
      metadata: { name: 'app.zone.com-tls', namespace: 'ns' },
      data: { 'tls.crt': expect.any(String), 'tls.key': expect.any(String) },
    });
  });

  it('makes a CNAMERecord Ready and Synced, an NfsPvc Bound, logging objects active', () => {
    const types = (o: KubeObject): unknown =>
      (playedStatus(o, NOW)?.['conditions'] as Array<{ type: string }>).map((c) => c.type);
    expect(types(child('record.dns.crossplane.io/v1alpha1', 'CNAMERecord'))).toEqual(['Ready', 'Synced']);
    expect(playedStatus(child('nfspvc.dana.io/v1alpha1', 'NfsPvc'), NOW)).toMatchObject({
      pvcPhase: 'Bound',
    });
    for (const kind of ['Output', 'Flow', 'SyslogNGOutput', 'SyslogNGFlow']) {
      expect(playedStatus(child('logging.banzaicloud.io/v1beta1', kind), NOW)).toEqual({
        active: true,
        problems: [],
        problemsCount: 0,
      });
    }
  });

  it('records the issuer and DNS provider our operator chose, and the ConfigMaps it read them from', () => {
    const cert = child('cert-manager.io/v1', 'Certificate', {
      issuerRef: { name: 'cert-external-issuer', kind: 'ClusterIssuer' },
    });
    expect(observations(cert)).toEqual([
      ['Certificate spec.issuerRef', 'cert-external-issuer (ClusterIssuer)'],
    ]);
    const record = child('record.dns.crossplane.io/v1alpha1', 'CNAMERecord', {
      providerConfigRef: { name: 'p' },
    });
    expect(observations(record)).toEqual([['CNAMERecord spec.providerConfigRef.name', 'p']]);
    const cm = {
      ...child('v1', 'ConfigMap'),
      metadata: { name: 'dns-config' },
      data: { zone: 'z.', issuer: 'i' },
    };
    expect(observations(cm)).toEqual([['ConfigMap dns-config', 'issuer=i, zone=z.']]);
  });

  it('plays no other kind', () => {
    expect(playedStatus(child('v1', 'ConfigMap'), NOW)).toBeUndefined();
  });

  it('keeps a condition’s transition time while its status holds', () => {
    const before = [{ type: 'Ready', status: 'True', lastTransitionTime: NOW }];
    expect(withTransitions(before, [{ type: 'Ready', status: 'True' }], LATER)[0].lastTransitionTime).toBe(
      NOW,
    );
    expect(withTransitions(before, [{ type: 'Ready', status: 'False' }], LATER)[0].lastTransitionTime).toBe(
      LATER,
    );
  });
});

describe('configurationFor (Knative: the Service owns a Configuration, which owns the Revisions)', () => {
  it('is named after the Service, labelled with it, owned by it, with its template', () => {
    const service = ksvc(template('img:1'), 'uid-svc');
    const configuration = configurationFor(service);
    expect(configuration).toMatchObject({
      apiVersion: 'serving.knative.dev/v1',
      kind: 'Configuration',
      metadata: {
        name: 'app',
        labels: { 'serving.knative.dev/service': 'app' },
        ownerReferences: [{ kind: 'Service', name: 'app', uid: 'uid-svc', controller: true }],
      },
      spec: { template: service.spec?.['template'] },
    });
    const rev = nextRevision(service, [], {
      ...configuration,
      metadata: { ...configuration.metadata, uid: 'uid-cfg' },
    });
    expect(rev?.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'Configuration', name: 'app', uid: 'uid-cfg', controller: true }),
    ]);
    expect(rev?.metadata.labels?.['serving.knative.dev/configuration']).toBe('app');
  });
});
