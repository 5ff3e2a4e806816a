import { CAPP_FINALIZER } from '@capp/capp-model';
import {
  CERTIFICATE,
  type ChildKind,
  CNAME_RECORD,
  DOMAIN_MAPPING,
  KNATIVE_SERVICE as KSVC,
  LABEL_PARENT_CAPP_NAMESPACE,
  LABEL_PARENT_CAPP_NS,
  LOGGING_FLOW as FLOW,
  LOGGING_OUTPUT as OUTPUT,
  NFS_PVC as NFSPVC,
} from '@capp/knative-adapter';
import { CAPP_REVISION_TYPE, CAPP_TYPE, SECRET_TYPE } from '@capp/kube';

import { ANNOTATION_APPLIED_HASH } from './reconcile/drift';
import { ClusterFixture, Obj, suffix, waitFor } from './testing/cluster-fixture';

/**
 * The container-app-operator's e2e scenarios, on a real kube-apiserver + etcd + garbage collector.
 * Knative, cert-manager, Crossplane and the other controllers do not run: the test writes the
 * children's status the way they would.
 */
const fx = new ClusterFixture();
const zone = `z${suffix()}.example.com`;

beforeAll(async () => {
  await fx.setUp();
  await fx.configMap('autoscale-defaults', {
    rps: '150',
    cpu: '75',
    memory: '65',
    concurrency: '12',
    activationScale: '2',
  });
  await fx.configMap('dns-config', { zone: `${zone}.`, cname: `ingress.${zone}.` });
  await fx.startController();
});

afterAll(async () => {
  await fx.tearDown();
});

/** A Capp whose container mounts each of its NFS volumes (Knative refuses a volume nobody mounts). */
function capp(name: string, spec: Record<string, unknown> = {}, labels?: Record<string, string>): Obj {
  const nfs = (
    (spec['volumesSpec'] as { nfsVolumes?: { name: string }[] } | undefined)?.nfsVolumes ?? []
  ).map((v) => ({ name: v.name, mountPath: `/mnt/${v.name}` }));
  return {
    apiVersion: 'rcs.dana.io/v1alpha1',
    kind: 'Capp',
    metadata: { name, namespace: fx.ns, ...(labels ? { labels } : {}) },
    spec: {
      configurationSpec: {
        template: {
          spec: {
            containers: [
              { name: 'app', image: 'ghcr.io/acme/app:1', ...(nfs.length > 0 ? { volumeMounts: nfs } : {}) },
            ],
          },
        },
      },
      ...spec,
    },
  };
}

const annotationsOf = (ksvc: Obj | undefined): Record<string, string> =>
  (ksvc?.spec?.['template'] as { metadata?: { annotations?: Record<string, string> } })?.metadata
    ?.annotations ?? {};

const condition = (
  obj: Obj | undefined,
  type: string,
): { status: string; reason: string; message: string } | undefined =>
  (
    (obj?.status?.['conditions'] ?? []) as Array<{
      type: string;
      status: string;
      reason: string;
      message: string;
    }>
  ).find((c) => c.type === type);

async function converged(name: string): Promise<Obj> {
  return waitFor(`Capp ${name} to converge`, async () => {
    const c = await fx.get(CAPP_TYPE, fx.ns, name);
    const generation = (c?.metadata as { generation?: number } | undefined)?.generation;
    return c && c.status?.['observedGeneration'] === generation ? c : undefined;
  });
}

async function markReady(
  type: ChildKind,
  namespace: string | undefined,
  name: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const live = await waitFor(`${type.kind} ${name}`, () => fx.get(type, namespace, name));
  const generation = (live.metadata as { generation?: number }).generation;
  await fx.apply(
    {
      apiVersion: type.apiVersion,
      kind: type.kind,
      metadata: { name, ...(namespace ? { namespace } : {}) },
      status: {
        // Knative reports the generation it saw; cert-manager and Crossplane do not.
        ...(type.apiVersion.startsWith('serving.knative.dev') ? { observedGeneration: generation } : {}),
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'Ready',
            message: '',
            lastTransitionTime: new Date().toISOString().replace(/\.\d+Z/, 'Z'),
          },
        ],
        ...extra,
      },
    },
    'status',
    'test-controller',
  );
}

describe('the operator on a real API server', () => {
  it('turns a default Capp into a Knative Service with KPA concurrency annotations from the ConfigMap', async () => {
    await fx.apply(capp('plain', {}, { team: 'payments' }));
    const ksvc = await waitFor('ksvc', () => fx.get(KSVC, fx.ns, 'plain'));
    expect(annotationsOf(ksvc)).toMatchObject({
      'autoscaling.knative.dev/class': 'kpa.autoscaling.knative.dev',
      'autoscaling.knative.dev/metric': 'concurrency',
      'autoscaling.knative.dev/target': '12',
      'autoscaling.knative.dev/activation-scale': '2',
    });
    expect(ksvc.metadata.labels).toMatchObject({ team: 'payments', 'rcs.dana.io/parent-capp': 'plain' });
    expect(ksvc.metadata['ownerReferences']).toEqual([
      expect.objectContaining({ kind: 'Capp', name: 'plain', controller: true }),
    ]);
    const c = await converged('plain');
    expect(c.metadata['finalizers']).toContain(CAPP_FINALIZER);
    // The inventory: each child with the hash of the render applied and the generation it was applied at.
    expect(c.status?.['managedResources']).toEqual([
      {
        apiVersion: 'serving.knative.dev/v1',
        kind: 'Service',
        namespace: fx.ns,
        name: 'plain',
        hash: expect.stringMatching(/^[0-9a-f]{32}$/),
        generation: 1,
      },
    ]);
    await waitFor('Created event', async () =>
      (await fx.events('plain')).some((e) => e.reason === 'Created'),
    );
  });

  it('switches to the HPA class when the metric becomes cpu', async () => {
    await fx.apply(capp('metric'));
    await waitFor('ksvc', () => fx.get(KSVC, fx.ns, 'metric'));
    await fx.apply(capp('metric', { scaleMetric: 'cpu', minReplicas: 1, maxReplicas: 5 }));
    const ksvc = await waitFor('hpa ksvc', async () => {
      const k = await fx.get(KSVC, fx.ns, 'metric');
      return annotationsOf(k)['autoscaling.knative.dev/metric'] === 'cpu' ? k : undefined;
    });
    expect(annotationsOf(ksvc)).toMatchObject({
      'autoscaling.knative.dev/class': 'hpa.autoscaling.knative.dev',
      'autoscaling.knative.dev/target': '75',
      'autoscaling.knative.dev/min-scale': '1',
      'autoscaling.knative.dev/max-scale': '5',
    });
  });

  it('re-renders every Knative Service when the autoscale ConfigMap changes', async () => {
    await fx.apply(capp('cm-a'));
    await fx.apply(capp('cm-b', { scaleMetric: 'rps' }));
    await converged('cm-a');
    await converged('cm-b');
    await fx.configMap('autoscale-defaults', {
      rps: '300',
      cpu: '75',
      memory: '65',
      concurrency: '33',
      activationScale: '2',
    });
    await waitFor('targets updated', async () => {
      const a = annotationsOf(await fx.get(KSVC, fx.ns, 'cm-a'))['autoscaling.knative.dev/target'];
      const b = annotationsOf(await fx.get(KSVC, fx.ns, 'cm-b'))['autoscaling.knative.dev/target'];
      return a === '33' && b === '300';
    });
  });

  it('creates a DomainMapping and a CNAMERecord for a hostname and prunes both when it is removed', async () => {
    const fqdn = `shop.${zone}`;
    await fx.apply(capp('shop', { routeSpec: { hostname: 'shop' } }));
    const dm = await waitFor('DomainMapping', () => fx.get(DOMAIN_MAPPING, fx.ns, fqdn));
    // Knative's defaulting adds the namespace of the reference.
    expect(dm.spec?.['ref']).toEqual({
      apiVersion: 'serving.knative.dev/v1',
      kind: 'Service',
      name: 'shop',
      namespace: fx.ns,
    });
    const record = await waitFor('CNAMERecord', () => fx.get(CNAME_RECORD, undefined, fqdn));
    expect(record.spec?.['forProvider']).toMatchObject({
      name: 'shop',
      zone: `${zone}.`,
      cname: `ingress.${zone}.`,
    });
    expect(record.metadata.labels).toMatchObject({
      [LABEL_PARENT_CAPP_NS]: fx.ns,
      [LABEL_PARENT_CAPP_NAMESPACE]: fx.ns,
      'rcs.dana.io/managed-by': 'capp',
    });

    await fx.apply(capp('shop'));
    await waitFor(
      'both pruned',
      async () =>
        !(await fx.get(DOMAIN_MAPPING, fx.ns, fqdn)) && !(await fx.get(CNAME_RECORD, undefined, fqdn)),
    );
    const c = await converged('shop');
    expect((c.status?.['managedResources'] as unknown[]).length).toBe(1);
  });

  it('issues a Certificate for TLS and names its Secret in the DomainMapping once the Secret exists', async () => {
    const fqdn = `secure.${zone}`;
    await fx.apply(capp('secure', { routeSpec: { hostname: fqdn, tlsEnabled: true } }));
    const cert = await waitFor('Certificate', () => fx.get(CERTIFICATE, fx.ns, fqdn));
    expect(cert.spec).toMatchObject({ secretName: `${fqdn}-tls`, dnsNames: [fqdn] });
    const dm = await waitFor('DomainMapping', () => fx.get(DOMAIN_MAPPING, fx.ns, fqdn));
    expect(dm.spec?.['tls']).toBeUndefined();

    // Play cert-manager: issue the Secret and mark the Certificate ready.
    await fx.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `${fqdn}-tls`, namespace: fx.ns },
      type: 'kubernetes.io/tls',
      data: {
        'tls.crt': Buffer.from('cert').toString('base64'),
        'tls.key': Buffer.from('key').toString('base64'),
      },
    });
    await markReady(CERTIFICATE, fx.ns, fqdn);
    const withTls = await waitFor('DomainMapping with TLS', async () => {
      const d = await fx.get(DOMAIN_MAPPING, fx.ns, fqdn);
      return d?.spec?.['tls'] ? d : undefined;
    });
    expect(withTls.spec?.['tls']).toEqual({ secretName: `${fqdn}-tls` });
    await fx.remove(SECRET_TYPE, fx.ns, `${fqdn}-tls`);
  });

  it('names an Opaque Secret <fqdn>-tls holding tls.crt and tls.key in the DomainMapping, as v0.3.5 does', async () => {
    const fqdn = `opaque.${zone}`;
    await fx.apply(capp('opaque', { routeSpec: { hostname: fqdn, tlsEnabled: true } }));
    await waitFor('Certificate', () => fx.get(CERTIFICATE, fx.ns, fqdn));
    const dm = await waitFor('DomainMapping', () => fx.get(DOMAIN_MAPPING, fx.ns, fqdn));
    expect(dm.spec?.['tls']).toBeUndefined();

    // A certificate provisioned by other means than cert-manager, as a plain Opaque Secret.
    await fx.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `${fqdn}-tls`, namespace: fx.ns },
      type: 'Opaque',
      data: {
        'tls.crt': Buffer.from('cert').toString('base64'),
        'tls.key': Buffer.from('key').toString('base64'),
      },
    });
    const withTls = await waitFor('DomainMapping with TLS', async () => {
      const d = await fx.get(DOMAIN_MAPPING, fx.ns, fqdn);
      return d?.spec?.['tls'] ? d : undefined;
    });
    expect(withTls.spec?.['tls']).toEqual({ secretName: `${fqdn}-tls` });
    await fx.remove(SECRET_TYPE, fx.ns, `${fqdn}-tls`);
  });

  it('creates an NfsPvc per volume and mounts each as a PVC volume of the pod', async () => {
    const volume = (name: string): Record<string, unknown> => ({
      name,
      server: 'nfs.local',
      path: `/exports/${name}`,
      capacity: { storage: '10Gi' },
    });
    await fx.apply(capp('files', { volumesSpec: { nfsVolumes: [volume('data'), volume('logs')] } }));
    const data = await waitFor('NfsPvc data', () => fx.get(NFSPVC, fx.ns, 'data'));
    expect(data.spec).toMatchObject({
      server: 'nfs.local',
      path: '/exports/data',
      capacity: { storage: '10Gi' },
      accessModes: ['ReadWriteMany'],
    });
    await waitFor('NfsPvc logs', () => fx.get(NFSPVC, fx.ns, 'logs'));
    const ksvc = await waitFor('ksvc', () => fx.get(KSVC, fx.ns, 'files'));
    const volumes = ((ksvc.spec?.['template'] as { spec: { volumes: unknown[] } }).spec.volumes ??
      []) as unknown[];
    expect(volumes).toEqual([
      { name: 'data', persistentVolumeClaim: { claimName: 'data' } },
      { name: 'logs', persistentVolumeClaim: { claimName: 'logs' } },
    ]);
  });

  it('reports a child the API server rejects on the Capp and still reconciles the others', async () => {
    await fx.apply(
      capp('immutable', {
        volumesSpec: {
          nfsVolumes: [{ name: 'vol', server: 'a.local', path: '/x', capacity: { storage: '1Gi' } }],
        },
      }),
    );
    await waitFor('NfsPvc', () => fx.get(NFSPVC, fx.ns, 'vol'));
    await converged('immutable');
    // NfsPvc's server is immutable (CEL in the upstream CRD): the apply of the change must fail.
    await fx.apply(
      capp('immutable', {
        scaleMetric: 'rps',
        volumesSpec: {
          nfsVolumes: [{ name: 'vol', server: 'b.local', path: '/x', capacity: { storage: '1Gi' } }],
        },
      }),
    );
    const c = await waitFor('VolumesReady False', async () => {
      const obj = await fx.get(CAPP_TYPE, fx.ns, 'immutable');
      return condition(obj, 'VolumesReady')?.status === 'False' ? obj : undefined;
    });
    expect(condition(c, 'VolumesReady')?.reason).toBe('ApplyFailed');
    expect(condition(c, 'VolumesReady')?.message).toMatch(/NfsPvc.*vol/);
    expect(condition(c, 'VolumesReady')?.message).toMatch(/immutable/i);
    expect(condition(c, 'Ready')?.status).toBe('False');
    const ksvc = await fx.get(KSVC, fx.ns, 'immutable');
    expect(annotationsOf(ksvc)['autoscaling.knative.dev/metric']).toBe('rps');
  });

  it('creates a Flow and an Output for log shipping, with the password from a Secret', async () => {
    await fx.apply(
      capp('logs', {
        logSpec: {
          type: 'elastic',
          host: 'es.local',
          index: 'apps',
          user: 'elastic',
          passwordSecret: 'es-pass',
        },
      }),
    );
    const output = await waitFor('Output', () => fx.get(OUTPUT, fx.ns, 'logs-elastic'));
    expect(output.spec?.['elasticsearch']).toMatchObject({
      host: 'es.local',
      index_name: 'apps',
      password: { valueFrom: { secretKeyRef: { name: 'es-pass', key: 'password' } } },
    });
    const flow = await waitFor('Flow', () => fx.get(FLOW, fx.ns, 'logs'));
    expect(flow.spec).toMatchObject({ localOutputRefs: ['logs-elastic'] });
  });

  it('removes the Knative Service when disabled, reports Ready with reason Disabled, and brings it back when enabled', async () => {
    await fx.apply(capp('toggle', { routeSpec: { hostname: 'toggle' } }));
    await waitFor('ksvc', () => fx.get(KSVC, fx.ns, 'toggle'));
    await fx.apply(capp('toggle', { state: 'disabled', routeSpec: { hostname: 'toggle' } }));
    await waitFor('ksvc gone', async () => !(await fx.get(KSVC, fx.ns, 'toggle')));
    const disabled = await converged('toggle');
    expect(condition(disabled, 'Ready')).toMatchObject({ status: 'True', reason: 'Disabled' });
    expect(await fx.get(DOMAIN_MAPPING, fx.ns, `toggle.${zone}`)).toBeDefined();
    await fx.apply(capp('toggle', { state: 'enabled', routeSpec: { hostname: 'toggle' } }));
    await waitFor('ksvc back', () => fx.get(KSVC, fx.ns, 'toggle'));
  });

  it('reports Ready with the URL once the children are ready', async () => {
    const fqdn = `ready.${zone}`;
    await fx.apply(capp('ready', { routeSpec: { hostname: 'ready' } }));
    await markReady(KSVC, fx.ns, 'ready', {
      url: `http://ready.${fx.ns}.example.com`,
      latestReadyRevisionName: 'ready-00001',
    });
    await markReady(DOMAIN_MAPPING, fx.ns, fqdn, { url: `http://${fqdn}` });
    await waitFor('CNAMERecord', () => fx.get(CNAME_RECORD, undefined, fqdn));
    await fx.apply(
      {
        apiVersion: CNAME_RECORD.apiVersion,
        kind: CNAME_RECORD.kind,
        metadata: { name: fqdn },
        status: {
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'Available',
              lastTransitionTime: '2026-01-01T00:00:00Z',
            },
            {
              type: 'Synced',
              status: 'True',
              reason: 'ReconcileSuccess',
              lastTransitionTime: '2026-01-01T00:00:00Z',
            },
          ],
        },
      },
      'status',
      'test-controller',
    );
    const c = await waitFor('Capp Ready', async () => {
      const obj = await fx.get(CAPP_TYPE, fx.ns, 'ready');
      return condition(obj, 'Ready')?.status === 'True' ? obj : undefined;
    });
    expect(c.status?.['url']).toBe(`http://${fqdn}`);
    expect(c.status?.['knativeObjectStatus']).toMatchObject({ latestReadyRevisionName: 'ready-00001' });
  });

  it('restores a Knative Service edited or deleted by hand, with a DriftCorrected event', async () => {
    await fx.apply(capp('drift'));
    const original = await waitFor('ksvc', () => fx.get(KSVC, fx.ns, 'drift'));
    await converged('drift');
    // A hand edit through another field manager.
    await fx.apply(
      {
        apiVersion: KSVC.apiVersion,
        kind: KSVC.kind,
        metadata: { name: 'drift', namespace: fx.ns },
        spec: { template: { metadata: { annotations: { 'autoscaling.knative.dev/target': '999' } } } },
      },
      undefined,
      'kubectl-edit',
    );
    const target = annotationsOf(original)['autoscaling.knative.dev/target'];
    await waitFor(
      'target restored',
      async () =>
        annotationsOf(await fx.get(KSVC, fx.ns, 'drift'))['autoscaling.knative.dev/target'] === target,
    );
    // Events are recorded asynchronously, after the restoring apply.
    await waitFor('DriftCorrected event', async () =>
      (await fx.events('drift')).some((e) => e.reason === 'DriftCorrected'),
    );

    await fx.remove(KSVC, fx.ns, 'drift');
    const recreated = await waitFor('ksvc recreated', async () => {
      const k = await fx.get(KSVC, fx.ns, 'drift');
      return k && k.metadata['uid'] !== original.metadata['uid'] ? k : undefined;
    });
    expect(recreated.metadata.annotations?.[ANNOTATION_APPLIED_HASH]).toBeDefined();
  });

  it('deletes every child, the cluster-scoped DNS record included, before the Capp goes', async () => {
    const fqdn = `gone.${zone}`;
    await fx.apply(
      capp('gone', {
        routeSpec: { hostname: 'gone', tlsEnabled: true },
        volumesSpec: {
          nfsVolumes: [{ name: 'gone-vol', server: 's', path: '/p', capacity: { storage: '1Gi' } }],
        },
      }),
    );
    await waitFor('CNAMERecord', () => fx.get(CNAME_RECORD, undefined, fqdn));
    await converged('gone');
    await fx.remove(CAPP_TYPE, fx.ns, 'gone');
    await waitFor('Capp gone', async () => !(await fx.get(CAPP_TYPE, fx.ns, 'gone')));
    expect(await fx.get(CNAME_RECORD, undefined, fqdn)).toBeUndefined();
    await waitFor('namespaced children gone', async () => {
      const left = await Promise.all([
        fx.get(KSVC, fx.ns, 'gone'),
        fx.get(CERTIFICATE, fx.ns, fqdn),
        fx.get(DOMAIN_MAPPING, fx.ns, fqdn),
        fx.get(NFSPVC, fx.ns, 'gone-vol'),
      ]);
      return left.every((o) => o === undefined);
    });
  });

  describe('CappRevisions for kubectl users (as container-app-operator v0.3.5)', () => {
    const revisions = async (name: string): Promise<string[]> =>
      (
        await fx.client.list(CAPP_REVISION_TYPE, {
          namespace: fx.ns,
          labelSelector: `rcs.dana.io/cappName=${name}`,
        })
      ).items
        .map((r) => r.metadata.name)
        .sort();
    const annotated = (name: string, value: string): Obj => {
      const c = capp(name);
      return { ...c, metadata: { ...c.metadata, annotations: { test: value } } };
    };

    it('keeps revision 1 of a new Capp, one more when its annotations change, and deletes them with it', async () => {
      await fx.apply(capp('hist'));
      await waitFor('revision 1', async () => (await revisions('hist')).length === 1);
      const first = await fx.get(CAPP_REVISION_TYPE, fx.ns, 'hist-00001');
      expect(first?.spec).toMatchObject({ revisionNumber: 1, cappTemplate: { cappSpec: capp('hist').spec } });
      expect(first?.metadata.ownerReferences).toEqual([
        expect.objectContaining({ kind: 'Capp', name: 'hist' }),
      ]);

      await fx.apply(annotated('hist', 'test'));
      await waitFor('revision 2', async () => (await revisions('hist')).length === 2);
      expect(await revisions('hist')).toEqual(['hist-00001', 'hist-00002']);
      const second = await fx.get(CAPP_REVISION_TYPE, fx.ns, 'hist-00002');
      expect(second?.spec?.['cappTemplate']).toMatchObject({ annotations: { test: 'test' } });

      await fx.remove(CAPP_TYPE, fx.ns, 'hist');
      await waitFor('revisions deleted with the Capp', async () => (await revisions('hist')).length === 0);
    });

    it('keeps ten per Capp: after eleven changes the two oldest are gone', async () => {
      await fx.apply(capp('many'));
      await waitFor('revision 1', async () => (await revisions('many')).length === 1);
      for (let i = 1; i <= 11; i++) {
        await fx.apply(annotated('many', `test${i}`));
        const name = `many-${String(i + 1).padStart(5, '0')}`;
        await waitFor(name, () => fx.get(CAPP_REVISION_TYPE, fx.ns, name));
      }
      await waitFor('ten revisions', async () => (await revisions('many')).length === 10);
      expect(await revisions('many')).toEqual(
        Array.from({ length: 10 }, (_, i) => `many-${String(i + 3).padStart(5, '0')}`),
      );
    });
  });
});
