import { CAPP_FINALIZER } from '@capp/capp-model';
import {
  CERTIFICATE,
  DOMAIN_MAPPING,
  KNATIVE_SERVICE as KSVC,
  NFS_PVC as NFSPVC,
  SYSLOG_NG_FLOW,
  SYSLOG_NG_OUTPUT,
} from '@capp/knative-adapter';
import { CAPP_TYPE } from '@capp/kube';
import { installCrds, referenceCrds, testEnvironment } from '@capp/testing';

import { ClusterFixture, Obj, waitFor } from './testing/cluster-fixture';

/**
 * Resource policies (DESIGN §9) on a real kube-apiserver, garbage collector and Knative admission:
 * every garbage-collection strategy, apply-once, stateKeep, take-over, a wiped inventory, and the
 * migration of Capps and children written as container-app-operator v0.3.5 writes them.
 */
const fx = new ClusterFixture();
const zone = 'policy.example.com';

beforeAll(async () => {
  await installCrds(
    testEnvironment().target,
    referenceCrds('syslogngflows.logging.banzaicloud.io', 'syslogngoutputs.logging.banzaicloud.io'),
  );
  await fx.setUp();
  await fx.configMap('dns-config', { zone: `${zone}.`, cname: `ingress.${zone}.` });
  await fx.startController();
});

afterAll(async () => {
  await fx.tearDown();
});

const IMAGE = 'ghcr.io/dana-team/capp-gin-app:v0.2.0';

function capp(
  name: string,
  spec: Record<string, unknown> = {},
  container: Record<string, unknown> = {},
): Obj {
  return {
    apiVersion: 'rcs.dana.io/v1alpha1',
    kind: 'Capp',
    metadata: { name, namespace: fx.ns },
    spec: {
      configurationSpec: {
        template: { spec: { containers: [{ name: 'app', image: IMAGE, ...container }] } },
      },
      ...spec,
    },
  };
}

async function converged(name: string): Promise<Obj> {
  return waitFor(`Capp ${name} to converge`, async () => {
    const c = await fx.get(CAPP_TYPE, fx.ns, name);
    const generation = (c?.metadata as { generation?: number } | undefined)?.generation;
    return c && c.status?.['observedGeneration'] === generation ? c : undefined;
  });
}

const inventory = (c: Obj): string[] =>
  ((c.status?.['managedResources'] as { kind: string; name: string; strategy?: string }[]) ?? []).map(
    (m) => `${m.kind}/${m.name}${m.strategy ? ` (${m.strategy})` : ''}`,
  );
const condition = (c: Obj | undefined, type: string) =>
  (
    c?.status?.['conditions'] as
      { type: string; status: string; reason: string; message: string }[] | undefined
  )?.find((x) => x.type === type);

async function deleteCapp(name: string): Promise<void> {
  await fx.remove(CAPP_TYPE, fx.ns, name);
  await waitFor(`Capp ${name} gone`, async () => !(await fx.get(CAPP_TYPE, fx.ns, name)));
}

const nfs = {
  nfsVolumes: [{ name: 'keep-data', server: 'nfs.local', path: '/exports/x', capacity: { storage: '1Gi' } }],
};
const mount = { volumeMounts: [{ name: 'keep-data', mountPath: '/data' }] };

it('orphans a never NfsPvc when its Capp is deleted; a new Capp of the same name adopts it', async () => {
  const policy = { garbageCollect: { rules: [{ selector: { kinds: ['NfsPvc'] }, strategy: 'never' }] } };
  await fx.apply(capp('keeper', { volumesSpec: nfs, resourcePolicy: policy }, mount));
  const first = await waitFor('NfsPvc', () => fx.get(NFSPVC, fx.ns, 'keep-data'));
  await converged('keeper');
  await deleteCapp('keeper');
  await waitFor('ksvc deleted', async () => !(await fx.get(KSVC, fx.ns, 'keeper')));
  const orphan = await fx.get(NFSPVC, fx.ns, 'keep-data');
  expect(orphan?.metadata.uid).toBe(first.metadata.uid);
  expect(orphan?.metadata.ownerReferences ?? []).toEqual([]);
  expect(orphan?.metadata.labels?.['rcs.dana.io/parent-capp']).toBeUndefined();
  expect(orphan?.metadata.annotations?.['rcs.dana.io/orphaned-from']).toBe(`${fx.ns}/keeper`);

  await fx.apply(capp('keeper', { volumesSpec: nfs }, mount));
  const adopted = await waitFor('NfsPvc adopted', async () => {
    const o = await fx.get(NFSPVC, fx.ns, 'keep-data');
    // Adopted (our labels back), then the orphan note dropped: two writes.
    return o?.metadata.labels?.['rcs.dana.io/parent-capp'] === 'keeper' &&
      !o.metadata.annotations?.['rcs.dana.io/orphaned-from']
      ? o
      : undefined;
  });
  expect(adopted.metadata.uid).toBe(first.metadata.uid);
  expect(adopted.metadata.annotations?.['rcs.dana.io/orphaned-from']).toBeUndefined();
  expect((await fx.events('keeper')).map((e) => e.reason)).toContain('Adopted');
});

it('keeps an onCappDelete Certificate through a hostname removal, and deletes it with the Capp', async () => {
  const fqdn = `tls.${zone}`;
  const policy = {
    garbageCollect: { rules: [{ selector: { kinds: ['Certificate'] }, strategy: 'onCappDelete' }] },
  };
  await fx.apply(capp('tls', { routeSpec: { hostname: fqdn, tlsEnabled: true }, resourcePolicy: policy }));
  const cert = await waitFor('Certificate', () => fx.get(CERTIFICATE, fx.ns, fqdn));
  await fx.apply(capp('tls', { resourcePolicy: policy }));
  await waitFor('DomainMapping pruned', async () => !(await fx.get(DOMAIN_MAPPING, fx.ns, fqdn)));
  const c = await converged('tls');
  expect((await fx.get(CERTIFICATE, fx.ns, fqdn))?.metadata.uid).toBe(cert.metadata.uid);
  expect(inventory(c)).toContain(`Certificate/${fqdn} (onCappDelete)`);
  await deleteCapp('tls');
  await waitFor('Certificate deleted with the Capp', async () => !(await fx.get(CERTIFICATE, fx.ns, fqdn)));
});

it('applies once at paths: resources another manager set stay, a later edit still updates the image', async () => {
  const policy = {
    applyOnce: {
      enabled: true,
      rules: [{ selector: { kinds: ['Service'] }, paths: ['spec.template.spec.containers[*].resources'] }],
    },
  };
  await fx.apply(capp('tuned', { resourcePolicy: policy }));
  await waitFor('ksvc', () => fx.get(KSVC, fx.ns, 'tuned'));
  await converged('tuned');
  // A VPA-like controller sets the resources with its own field manager.
  await fx.apply(
    {
      apiVersion: 'serving.knative.dev/v1',
      kind: 'Service',
      metadata: { name: 'tuned', namespace: fx.ns },
      spec: {
        template: {
          spec: { containers: [{ name: 'app', image: IMAGE, resources: { requests: { cpu: '750m' } } }] },
        },
      },
    },
    undefined,
    'vpa-recommender',
  );
  await fx.apply(
    capp('tuned', { resourcePolicy: policy }, { image: 'ghcr.io/dana-team/capp-gin-app:v0.3.0' }),
  );
  const ksvc = await waitFor('image updated', async () => {
    const o = await fx.get(KSVC, fx.ns, 'tuned');
    return JSON.stringify(o?.spec).includes('v0.3.0') ? o : undefined;
  });
  const container = (ksvc.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template
    .spec.containers[0];
  expect(container).toMatchObject({
    image: 'ghcr.io/dana-team/capp-gin-app:v0.3.0',
    resources: { requests: { cpu: '750m' } },
  });
});

it('with stateKeep false leaves a hand edit until the spec changes', async () => {
  await fx.apply(capp('handsoff', { resourcePolicy: { stateKeep: false } }));
  await waitFor('ksvc', () => fx.get(KSVC, fx.ns, 'handsoff'));
  await converged('handsoff');
  const edited = { 'example.com/edited': 'by-hand' };
  await fx.apply(
    {
      apiVersion: 'serving.knative.dev/v1',
      kind: 'Service',
      metadata: { name: 'handsoff', namespace: fx.ns, labels: edited },
    },
    undefined,
    'kubectl-edit',
  );
  // Any reconcile now (a label on the Capp is not a spec change) leaves the edit.
  await fx.apply({
    ...capp('handsoff', { resourcePolicy: { stateKeep: false } }),
    metadata: { name: 'handsoff', namespace: fx.ns, labels: { team: 'a' } },
  });
  await new Promise((r) => setTimeout(r, 1500));
  await fx.controller?.queue.whenIdle();
  const ksvc = await fx.get(KSVC, fx.ns, 'handsoff');
  expect(ksvc?.metadata.labels?.['example.com/edited']).toBe('by-hand');
  expect(ksvc?.metadata.labels?.['team']).toBe('a');
});

it('refuses to take over a Knative Service it did not create, then adopts it when told, keeping its uid', async () => {
  await fx.apply(
    {
      apiVersion: 'serving.knative.dev/v1',
      kind: 'Service',
      metadata: { name: 'theirs', namespace: fx.ns },
      spec: { template: { spec: { containers: [{ image: 'nginx:1.27' }] } } },
    },
    undefined,
    'helm',
  );
  const before = await fx.get(KSVC, fx.ns, 'theirs');
  await fx.apply(capp('theirs'));
  const refused = await waitFor('TakeOverRefused', async () => {
    const c = await fx.get(CAPP_TYPE, fx.ns, 'theirs');
    return condition(c, 'KnativeServiceReady')?.reason === 'TakeOverRefused' ? c : undefined;
  });
  expect(condition(refused, 'KnativeServiceReady')?.message).toMatch(
    /Service\/.*\/theirs exists and is not this Capp's \(managed by helm/,
  );
  expect(JSON.stringify((await fx.get(KSVC, fx.ns, 'theirs'))?.spec)).toContain('nginx:1.27');

  await fx.apply(capp('theirs', { resourcePolicy: { takeOver: 'adopt' } }));
  const adopted = await waitFor('adopted', async () => {
    const o = await fx.get(KSVC, fx.ns, 'theirs');
    return JSON.stringify(o?.spec).includes(IMAGE) ? o : undefined;
  });
  expect(adopted.metadata.uid).toBe(before?.metadata.uid);
  expect(adopted.metadata.labels?.['rcs.dana.io/parent-capp']).toBe('theirs');
});

it('rebuilds a wiped inventory from the labels: nothing deleted, nothing orphaned', async () => {
  const fqdn = `wiped.${zone}`;
  await fx.apply(
    capp(
      'wiped',
      {
        routeSpec: { hostname: fqdn },
        volumesSpec: { nfsVolumes: [{ ...nfs.nfsVolumes[0], name: 'wiped-data' }] },
      },
      { volumeMounts: [{ name: 'wiped-data', mountPath: '/d' }] },
    ),
  );
  await waitFor('DomainMapping', () => fx.get(DOMAIN_MAPPING, fx.ns, fqdn));
  const c = await converged('wiped');
  const uids = await Promise.all([
    fx.get(KSVC, fx.ns, 'wiped'),
    fx.get(DOMAIN_MAPPING, fx.ns, fqdn),
    fx.get(NFSPVC, fx.ns, 'wiped-data'),
  ]);
  // A restore from backup: the status is gone.
  await fx.apply(
    {
      apiVersion: 'rcs.dana.io/v1alpha1',
      kind: 'Capp',
      metadata: { name: 'wiped', namespace: fx.ns },
      status: { managedResources: [] },
    },
    'status',
    'capp-operator',
  );
  // A status-only change does not wake the controller; the periodic resync does (once its cache
  // has the wiped status: a watch event away).
  await new Promise((r) => setTimeout(r, 1000));
  await fx.controller?.queue.whenIdle();
  fx.controller?.resync();
  const rebuilt = await waitFor('inventory rebuilt', async () => {
    const x = await fx.get(CAPP_TYPE, fx.ns, 'wiped');
    return inventory(x ?? ({} as Obj)).length === inventory(c).length ? x : undefined;
  });
  expect(inventory(rebuilt).sort()).toEqual(inventory(c).sort());
  const after = await Promise.all([
    fx.get(KSVC, fx.ns, 'wiped'),
    fx.get(DOMAIN_MAPPING, fx.ns, fqdn),
    fx.get(NFSPVC, fx.ns, 'wiped-data'),
  ]);
  expect(after.map((o) => o?.metadata.uid)).toEqual(uids.map((o) => o?.metadata.uid));
});

it('migrates a container-app-operator v0.3.5 Capp: children taken over, SyslogNG kinds replaced, finalizer replaced', async () => {
  const name = 'legacy';
  const v035 = { 'rcs.dana.io/parent-capp': name, 'rcs.dana.io/managed-by': 'capp' };
  // What v0.3.5 left: its ksvc (with a field only it set), its syslog-ng logging, its finalizer.
  await fx.apply(
    {
      apiVersion: 'serving.knative.dev/v1',
      kind: 'Service',
      metadata: { name, namespace: fx.ns, labels: v035 },
      spec: {
        template: {
          metadata: { annotations: { 'v035.example.com/only': 'x' } },
          spec: { containers: [{ name: 'app', image: IMAGE, env: [{ name: 'FROM_V035', value: '1' }] }] },
        },
      },
    },
    undefined,
    'manager',
  );
  for (const kind of [SYSLOG_NG_FLOW, SYSLOG_NG_OUTPUT])
    await fx.apply(
      {
        apiVersion: kind.apiVersion,
        kind: kind.kind,
        metadata: { name, namespace: fx.ns, labels: v035 },
        spec: {},
      },
      undefined,
      'manager',
    );
  const uid = (await fx.get(KSVC, fx.ns, name))?.metadata.uid;
  await fx.apply({
    ...capp(name, {
      logSpec: { type: 'splunk', host: 'splunk.local', index: 'main', hecTokenSecret: 'hec' },
    }),
    metadata: { name, namespace: fx.ns, finalizers: ['dana.io/capp-cleanup'] },
  });
  // The platform turns take-over on (the migration switch), after the Capp exists.
  await fx.configMap('capp-resource-policy', { policy: 'takeOver: adopt\n' });
  const migrated = await waitFor('v0.3.5 finalizer replaced', async () => {
    const c = await fx.get(CAPP_TYPE, fx.ns, name);
    return c?.metadata.finalizers?.join(',') === CAPP_FINALIZER ? c : undefined;
  });
  expect(migrated.metadata.finalizers).toEqual([CAPP_FINALIZER]);
  const ksvc = await fx.get(KSVC, fx.ns, name);
  expect(ksvc?.metadata.uid).toBe(uid);
  expect(ksvc?.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('capp-operator');
  expect(JSON.stringify(ksvc?.spec)).not.toContain('FROM_V035');
  for (const kind of [SYSLOG_NG_FLOW, SYSLOG_NG_OUTPUT])
    expect(await fx.get(kind, fx.ns, name)).toBeUndefined();
  expect((await fx.events(name)).map((e) => e.reason)).toContain('Migrated');
  await fx.deleteConfigMap('capp-resource-policy');
});
