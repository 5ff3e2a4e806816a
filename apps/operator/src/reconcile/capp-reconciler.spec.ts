import {
  Capp,
  CAPP_FINALIZER,
  CappRevision,
  CappSpec,
  CappTrait,
  KubeObject,
  LABEL_CAPP_NAME,
  LABEL_MANAGED_BY,
  LABEL_PARENT_CAPP,
  MANAGED_BY_OPERATOR,
} from '@capp/capp-model';
import { ConfigMapLike, type LoggingBackend, parentOf, tlsSecretName } from '@capp/knative-adapter';
import { ConflictError, InvalidError, KubeApiError, KubeUnreachableError, objectId } from '@capp/kube';
import pino from 'pino';

import { CappReconciler } from './capp-reconciler';
import { ANNOTATION_APPLIED_HASH } from './drift';
import { ReconcileError } from './errors';
import type { ClientPort, EventsPort, ObjectRef, ReadPort } from './ports';
import { TraitHttpRefused } from './trait-http';

/**
 * Table tests of the reconciler: objects in (a fake cluster the read port serves) → applies, deletes,
 * status and Events out (recorded by the fake client and events ports). No API server: each case runs
 * in milliseconds; the integration suite (controller.spec.ts) proves the same against a real one.
 */

const NS = 'shop';
const NOW = new Date('2026-11-30T12:00:00Z');
const DNS_CONFIG = { zone: 'apps.example.com.', cname: 'ingress.apps.example.com.' };

/** A cluster in memory: what the caches would hold, and a record of every write. */
class FakeCluster implements ReadPort, ClientPort, EventsPort {
  readonly objects = new Map<string, KubeObject>();
  readonly configMaps = new Map<string, ConfigMapLike>([['dns-config', { data: DNS_CONFIG }]]);
  readonly secrets = new Set<string>();
  /** `apply <Kind> <name>`, `apply status`, `finalizer +/-`, `delete <Kind> <name>`, in order. */
  readonly writes: string[] = [];
  readonly events: string[] = [];
  /** `get <Kind> <name>`: reads that bypass the caches (a child the caches do not hold). */
  readonly reads: string[] = [];
  /** Kind → the error the server answers an apply of it with. */
  readonly reject = new Map<string, Error>();
  /** `Kind/name` → the error the server answers a delete of it with. */
  readonly refuseDelete = new Map<string, Error>();
  /** CappRevisions not kept (turned off, or their CRD not installed). */
  revisionsOff = false;
  readonly traitsByName = new Map<string, CappTrait>();
  readonly namespaces = new Map<string, Record<string, string>>([[NS, {}]]);
  /** Object id → what the caches still show (a watch event not delivered yet). */
  readonly staleCache = new Map<string, KubeObject>();
  private version = 1;

  put(obj: KubeObject): KubeObject {
    const stored = structuredClone({
      ...obj,
      metadata: { ...obj.metadata, resourceVersion: String(++this.version) },
    });
    this.objects.set(objectId(stored), stored);
    return stored;
  }

  get capps(): Capp[] {
    return [...this.objects.values()].filter((o) => o.kind === 'Capp') as unknown as Capp[];
  }

  theCapp(name = 'web'): Capp {
    const capp = this.capp(NS, name);
    if (!capp) throw new Error(`no Capp ${name}`);
    return capp;
  }

  childrenKinds(): string[] {
    return [...this.objects.values()]
      .filter((o) => o.kind !== 'Capp' && o.kind !== 'CappRevision')
      .map((o) => o.kind);
  }

  /** Names of the CappRevisions of Capp `web`, oldest first. */
  revisionNames(): string[] {
    return (this.revisionsOf(NS, 'web') ?? [])
      .sort((a, b) => a.spec.revisionNumber - b.spec.revisionNumber)
      .map((r) => r.metadata.name);
  }

  // --- ReadPort
  trait(name: string): CappTrait | undefined {
    return this.traitsByName.get(name);
  }

  traits(): CappTrait[] {
    return [...this.traitsByName.values()];
  }

  namespaceLabels(name: string): Record<string, string> | undefined {
    return this.namespaces.get(name);
  }

  capp(namespace: string, name: string): Capp | undefined {
    return this.objects.get(`rcs.dana.io/v1alpha1/Capp/${namespace}/${name}`) as unknown as Capp | undefined;
  }
  /** As the informers: only what this operator labels as its own. */
  child(
    kind: { apiVersion: string; kind: string },
    namespace: string | undefined,
    name: string,
  ): KubeObject | undefined {
    const id = objectId({ ...kind, metadata: { namespace, name } });
    const obj = this.staleCache.get(id) ?? this.objects.get(id);
    if (obj?.kind === 'CappRevision') return obj;
    return obj?.metadata.labels?.['app.kubernetes.io/managed-by'] === 'capp-operator' ? obj : undefined;
  }
  childrenOf(namespace: string, name: string): KubeObject[] {
    return [...this.objects.values()].filter((o) => {
      const parent = o.kind !== 'Capp' ? parentOf(o) : undefined;
      return parent?.namespace === namespace && parent.name === name;
    });
  }
  configMap(name: string): ConfigMapLike | undefined {
    return this.configMaps.get(name);
  }
  secretExists(namespace: string, name: string): boolean {
    return this.secrets.has(`${namespace}/${name}`);
  }
  revisionsOf(namespace: string, capp: string): CappRevision[] | undefined {
    if (this.revisionsOff) return undefined;
    return [...this.objects.values()].filter(
      (o) =>
        o.kind === 'CappRevision' &&
        o.metadata.namespace === namespace &&
        o.metadata.labels?.[LABEL_CAPP_NAME] === capp,
    ) as unknown as CappRevision[];
  }

  // --- ClientPort (server-side apply, simplified to what the reconciler sends)
  async apply<T extends KubeObject = KubeObject>(
    obj: KubeObject<unknown, unknown>,
    options?: { subresource?: 'status' },
  ): Promise<T> {
    const id = objectId(obj);
    const live = this.objects.get(id);
    if (obj.kind === 'Capp') {
      if (!live) throw new Error('the reconciler never creates a Capp');
      if (options?.subresource === 'status') {
        this.writes.push('apply status');
        return this.put({ ...live, status: obj.status as Record<string, unknown> }) as T;
      }
      const finalizers = obj.metadata.finalizers ?? [];
      this.writes.push(`finalizer ${finalizers.length ? '+' : '-'}`);
      const others = (live.metadata.finalizers ?? []).filter((f) => f !== CAPP_FINALIZER);
      return this.put({
        ...live,
        metadata: { ...live.metadata, finalizers: [...others, ...finalizers] },
      }) as T;
    }
    this.writes.push(`apply ${obj.kind} ${obj.metadata.name}`);
    const rejection = this.reject.get(obj.kind);
    if (rejection) throw rejection;
    // Fields other controllers wrote (status) stay; ours are replaced.
    return this.put({ ...(obj as KubeObject), status: live?.status }) as T;
  }

  async create<T extends KubeObject = KubeObject>(obj: KubeObject<unknown, unknown>): Promise<T> {
    this.writes.push(`create ${obj.kind} ${obj.metadata.name}`);
    const rejection = this.reject.get(obj.kind);
    if (rejection) throw rejection;
    if (this.objects.has(objectId(obj)))
      throw new ConflictError(409, 'AlreadyExists', `${obj.metadata.name} already exists`, 'POST', '/');
    return this.put(obj as KubeObject) as T;
  }

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    this.reads.push(`get ${ref.kind} ${ref.name}`);
    return this.objects.get(objectId({ ...ref, metadata: { namespace: ref.namespace, name: ref.name } }));
  }

  /** Merge patches as RFC 7386; JSON patches: `remove` and `test` on simple paths. */
  async patch(ref: ObjectRef, patch: unknown, type: 'merge' | 'json'): Promise<KubeObject> {
    this.writes.push(`patch ${ref.kind} ${ref.name}`);
    const id = objectId({ ...ref, metadata: { namespace: ref.namespace, name: ref.name } });
    const live = this.objects.get(id);
    if (!live) throw new Error(`${id} not found`);
    const next = structuredClone(live) as Record<string, unknown>;
    if (type === 'merge') mergeInto(next, patch as Record<string, unknown>);
    else
      for (const op of patch as { op: string; path: string; value?: unknown }[]) {
        const keys = op.path.split('/').slice(1);
        const parent = keys.slice(0, -1).reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], next);
        const last = keys[keys.length - 1] as string;
        if (
          op.op === 'test' &&
          JSON.stringify((parent as Record<string, unknown>)[last]) !== JSON.stringify(op.value)
        )
          throw new Error(`test failed at ${op.path}`);
        if (op.op === 'remove') {
          if (Array.isArray(parent)) parent.splice(Number(last), 1);
          else delete (parent as Record<string, unknown>)[last];
        }
      }
    return this.put(next as unknown as KubeObject);
  }

  async delete(ref: ObjectRef): Promise<boolean> {
    this.writes.push(`delete ${ref.kind} ${ref.name}`);
    const refused = this.refuseDelete.get(`${ref.kind}/${ref.name}`);
    if (refused) throw refused;
    return this.objects.delete(objectId({ ...ref, metadata: { namespace: ref.namespace, name: ref.name } }));
  }

  // --- EventsPort
  record(_capp: Capp, type: string, reason: string, message: string): void {
    this.events.push(`${type} ${reason}: ${message}`);
  }
}

function mergeInto(target: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete target[k];
    else if (
      typeof v === 'object' &&
      !Array.isArray(v) &&
      typeof target[k] === 'object' &&
      target[k] !== null
    )
      mergeInto(target[k] as Record<string, unknown>, v as Record<string, unknown>);
    else target[k] = structuredClone(v);
  }
}

function cappSpec(overrides: Partial<CappSpec> = {}): CappSpec {
  return {
    configurationSpec: {
      template: { spec: { containers: [{ name: 'web', image: 'ghcr.io/dana-team/capp-gin-app:v0.2.0' }] } },
    },
    ...overrides,
  } as CappSpec;
}

/** Every optional part: route with TLS, an NFS volume, log shipping — all seven child kinds. */
const FULL: Partial<CappSpec> = {
  routeSpec: { hostname: 'web.apps.example.com', tlsEnabled: true },
  volumesSpec: { nfsVolumes: [{ name: 'data', server: 'nfs1', path: '/a', capacity: { storage: '1Gi' } }] },
  logSpec: { type: 'elastic', host: '10.0.0.1', index: 'main', user: 'elastic', passwordSecret: 'es-pass' },
};

function setUp(spec: Partial<CappSpec> = FULL, extra: Partial<Capp['metadata']> = {}) {
  const cluster = new FakeCluster();
  cluster.put({
    apiVersion: 'rcs.dana.io/v1alpha1',
    kind: 'Capp',
    metadata: { name: 'web', namespace: NS, uid: 'uid-web', generation: 1, ...extra },
    spec: cappSpec(spec) as unknown as Record<string, unknown>,
  });
  const reconcilerFor = (loggingBackend?: LoggingBackend): CappReconciler =>
    new CappReconciler({
      loggingBackend,
      read: cluster,
      client: cluster,
      events: cluster,
      logger: pino({ level: 'silent' }),
      clock: () => NOW,
    });
  /** One reconcile (by an operator with this logging backend: default fluentd); returns its writes. */
  const reconcile = async (loggingBackend?: LoggingBackend): Promise<string[]> => {
    cluster.writes.length = 0;
    cluster.events.length = 0;
    await reconcilerFor(loggingBackend).reconcile(NS, 'web');
    return [...cluster.writes];
  };
  /** The Capp's spec changed (a new generation). */
  const edit = (change: Partial<CappSpec>): void => {
    const capp = cluster.theCapp();
    cluster.put({
      ...(capp as unknown as KubeObject),
      metadata: { ...capp.metadata, generation: (capp.metadata.generation ?? 1) + 1 },
      spec: { ...capp.spec, ...change } as unknown as Record<string, unknown>,
    });
  };
  /** The Capp's annotations changed (no new generation: metadata only). */
  const annotate = (annotations: Record<string, string>): void => {
    const capp = cluster.theCapp();
    cluster.put({ ...(capp as unknown as KubeObject), metadata: { ...capp.metadata, annotations } });
  };
  return { cluster, reconcile, edit, annotate };
}

const condition = (capp: Capp, type: string) => capp.status?.conditions?.find((c) => c.type === type);

describe('CappReconciler', () => {
  it('gives a new Capp its finalizer, every child kind in order, its inventory in status and one Created Event', async () => {
    const { cluster, reconcile } = setUp();
    const fqdn = 'web.apps.example.com';

    expect(await reconcile()).toEqual([
      'finalizer +',
      'create CappRevision web-00001',
      'apply Service web',
      'apply NfsPvc data',
      'apply Output web-elastic',
      'apply Flow web',
      `apply Certificate ${fqdn}`,
      `apply DomainMapping ${fqdn}`,
      `apply CNAMERecord ${fqdn}`,
      'apply status',
    ]);
    const capp = cluster.theCapp();
    expect(capp.metadata.finalizers).toEqual([CAPP_FINALIZER]);
    expect(capp.status?.observedGeneration).toBe(1);
    expect(capp.status?.managedResources?.map((m) => m.kind)).toEqual([
      'Service',
      'NfsPvc',
      'Output',
      'Flow',
      'Certificate',
      'DomainMapping',
      'CNAMERecord',
    ]);
    expect(condition(capp, 'Ready')?.status).toBe('Unknown'); // the children's controllers have not answered
    expect(cluster.events).toEqual([
      `Normal Created: created Service/shop/web, NfsPvc/shop/data, Output/shop/web-elastic, Flow/shop/web, Certificate/shop/${fqdn}, DomainMapping/shop/${fqdn}, CNAMERecord/${fqdn}`,
    ]);
    for (const child of cluster.objects.values()) {
      if (child.kind === 'Capp' || child.kind === 'CappRevision') continue;
      expect(child.metadata.labels).toMatchObject({
        [LABEL_PARENT_CAPP]: 'web',
        [LABEL_MANAGED_BY]: MANAGED_BY_OPERATOR,
        'rcs.dana.io/managed-by': 'capp',
      });
      if (child.kind === 'CNAMERecord')
        expect(child.metadata.labels?.['rcs.dana.io/parent-capp-ns']).toBe(NS);
      expect(child.metadata.annotations?.[ANNOTATION_APPLIED_HASH]).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  it('spends no write and records no Event on a Capp that has converged', async () => {
    const { cluster, reconcile } = setUp();
    await reconcile();
    expect(await reconcile()).toEqual([]);
    expect(cluster.events).toEqual([]);
  });

  it('writes status once the children report ready, and only then', async () => {
    const { cluster, reconcile } = setUp({});
    await reconcile();
    const ksvc = cluster.child({ apiVersion: 'serving.knative.dev/v1', kind: 'Service' }, NS, 'web');
    cluster.put({
      ...(ksvc as KubeObject),
      status: {
        url: 'https://web.shop.example.com',
        latestReadyRevisionName: 'web-00001',
        latestCreatedRevisionName: 'web-00001',
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-11-30T11:59:00Z' }],
      },
    });
    expect(await reconcile()).toEqual(['apply status']);
    expect(condition(cluster.theCapp(), 'Ready')?.status).toBe('True');
    expect(await reconcile()).toEqual([]);
  });

  it("reports the children's own statuses where v0.3.5 does, and no routeStatus once the hostname is gone", async () => {
    const { cluster, reconcile, edit } = setUp({ routeSpec: { hostname: 'web.apps.example.com' } });
    await reconcile();
    const dm = cluster.child(
      { apiVersion: 'serving.knative.dev/v1beta1', kind: 'DomainMapping' },
      NS,
      'web.apps.example.com',
    ) as KubeObject;
    cluster.put({
      ...dm,
      status: {
        url: 'http://web.apps.example.com',
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-11-30T11:59:00Z' }],
      },
    });

    expect(await reconcile()).toEqual(['apply status']);
    const route = cluster.theCapp().status?.routeStatus;
    expect(route?.domainMappingObjectStatus?.['url']).toBe('http://web.apps.example.com');
    expect(route?.dnsRecordObjectStatus).toBeUndefined(); // the CNAMERecord has no status yet

    edit({ routeSpec: {} });
    await reconcile();
    expect(cluster.theCapp().status).not.toHaveProperty('routeStatus');
  });

  it('deletes a child the Capp no longer renders and drops it from the inventory', async () => {
    const { cluster, reconcile, edit } = setUp();
    await reconcile();
    edit({ logSpec: undefined });

    expect(await reconcile()).toEqual([
      'create CappRevision web-00002',
      'delete Flow web',
      'delete Output web-elastic',
      'apply status',
    ]);
    expect(cluster.childrenKinds()).not.toContain('Flow');
    expect(cluster.theCapp().status?.managedResources?.map((m) => m.kind)).not.toContain('Output');
    expect(cluster.events).toEqual(['Normal Deleted: deleted Flow/shop/web, Output/shop/web-elastic']);
  });

  it('prunes a labelled child missing from the inventory (a crash between its apply and the status write)', async () => {
    const { cluster, reconcile } = setUp({});
    await reconcile();
    cluster.put({
      apiVersion: 'rcs.dana.io/v1alpha1',
      kind: 'NfsPvc',
      metadata: {
        name: 'orphan',
        namespace: NS,
        labels: { [LABEL_PARENT_CAPP]: 'web', [LABEL_MANAGED_BY]: MANAGED_BY_OPERATOR },
      },
    });

    expect(await reconcile()).toEqual(['delete NfsPvc orphan']);
    expect(cluster.childrenKinds()).toEqual(['Service']);
  });

  it.each(['rcs.dana.io/parent-capp-ns', 'rcs.dana.io/parent-capp-namespace'])(
    'prunes a cluster-scoped CNAMERecord missing from the inventory whose namespace label is %s',
    async (namespaceLabel) => {
      const { cluster, reconcile } = setUp({});
      await reconcile();
      cluster.put({
        apiVersion: 'record.dns.crossplane.io/v1alpha1',
        kind: 'CNAMERecord',
        metadata: {
          name: 'old.apps.example.com',
          labels: { [LABEL_PARENT_CAPP]: 'web', [namespaceLabel]: NS, 'rcs.dana.io/managed-by': 'capp' },
        },
      });

      expect(await reconcile()).toEqual(['delete CNAMERecord old.apps.example.com']);
      expect(cluster.childrenKinds()).toEqual(['Service']);
    },
  );

  it('deletes every child of a deleted Capp, the cluster-scoped one too, then releases the finalizer', async () => {
    const { cluster, reconcile } = setUp();
    await reconcile();
    const capp = cluster.theCapp();
    cluster.put({
      ...(capp as unknown as KubeObject),
      metadata: { ...capp.metadata, deletionTimestamp: '2026-11-30T12:00:00Z' },
    });

    const writes = await reconcile();
    expect(writes.filter((w) => w.startsWith('delete')).sort()).toEqual(
      [
        'delete CNAMERecord web.apps.example.com',
        'delete Certificate web.apps.example.com',
        'delete DomainMapping web.apps.example.com',
        'delete Flow web',
        'delete NfsPvc data',
        'delete Output web-elastic',
        'delete Service web',
      ].sort(),
    );
    expect(writes.at(-1)).toBe('finalizer -');
    expect(cluster.childrenKinds()).toEqual([]);
    expect(cluster.theCapp().metadata.finalizers).toEqual([]);
  });

  it('keeps the finalizer, and asks for a retry, while a child of a deleted Capp cannot be deleted', async () => {
    const { cluster, reconcile } = setUp();
    await reconcile();
    const capp = cluster.theCapp();
    cluster.put({
      ...(capp as unknown as KubeObject),
      metadata: { ...capp.metadata, deletionTimestamp: '2026-11-30T12:00:00Z' },
    });
    cluster.refuseDelete.set(
      'CNAMERecord/web.apps.example.com',
      new KubeUnreachableError('DELETE', '/apis/…', new Error('ECONNREFUSED')),
    );

    const failure = await reconcile().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ReconcileError);
    expect(failure).toMatchObject({ reason: 'ChildrenTerminating', retryable: true });
    expect(cluster.writes).not.toContain('finalizer -');
    expect(cluster.theCapp().metadata.finalizers).toEqual([CAPP_FINALIZER]);
  });

  it('removes the Knative Service of a disabled Capp and keeps its route', async () => {
    const { cluster, reconcile, edit } = setUp({ routeSpec: { hostname: 'web.apps.example.com' } });
    await reconcile();
    edit({ state: 'disabled' });

    expect(await reconcile()).toEqual([
      'create CappRevision web-00002',
      'delete Service web',
      'apply status',
    ]);
    expect(cluster.childrenKinds().sort()).toEqual(['CNAMERecord', 'DomainMapping']);
    expect(condition(cluster.theCapp(), 'KnativeServiceReady')).toMatchObject({
      status: 'True',
      reason: 'Disabled',
    });
  });

  it('restores a child changed by hand and says so in a DriftCorrected Event', async () => {
    const { cluster, reconcile } = setUp({});
    await reconcile();
    const ksvc = cluster.child(
      { apiVersion: 'serving.knative.dev/v1', kind: 'Service' },
      NS,
      'web',
    ) as KubeObject;
    const edited = structuredClone(ksvc);
    (
      edited.spec as { template: { spec: { containers: Array<{ image: string }> } } }
    ).template.spec.containers[0].image = 'evil:latest';
    cluster.put(edited);

    expect(await reconcile()).toEqual(['apply Service web']);
    expect(cluster.events).toEqual([
      'Normal DriftCorrected: restored (changed outside the operator) Service/shop/web',
    ]);
    const restored = cluster.child({ apiVersion: 'serving.knative.dev/v1', kind: 'Service' }, NS, 'web');
    expect(JSON.stringify(restored?.spec)).toContain('capp-gin-app');
  });

  it('updates a child whose desired state changed, with an Updated Event (not drift)', async () => {
    const { cluster, reconcile, edit } = setUp({});
    await reconcile();
    edit({ scaleMetric: 'rps' });

    expect(await reconcile()).toEqual(['create CappRevision web-00002', 'apply Service web', 'apply status']);
    expect(cluster.events).toEqual(['Normal Updated: updated Service/shop/web']);
  });

  it('reports a child the server rejects in status and an ApplyFailed Event, applies the rest, and does not retry', async () => {
    const { cluster, reconcile } = setUp({ routeSpec: { hostname: 'web.apps.example.com' } });
    cluster.reject.set(
      'DomainMapping',
      new InvalidError(422, 'Invalid', 'spec.ref: Invalid value', 'PATCH', '/apis/…'),
    );

    const failure = await reconcile().catch((err: unknown) => err);
    expect(failure).toMatchObject({ reason: 'ChildRejected', retryable: false });
    expect(cluster.childrenKinds().sort()).toEqual(['CNAMERecord', 'Service']);
    const route = condition(cluster.theCapp(), 'RouteReady');
    expect(route).toMatchObject({ status: 'False', reason: 'ApplyFailed' });
    expect(route?.message).toContain('spec.ref: Invalid value');
    expect(cluster.events).toContain(
      'Warning ApplyFailed: DomainMapping/shop/web.apps.example.com: 422 Invalid: spec.ref: Invalid value',
    );
  });

  it('asks for a retry when the API server fails on a child (Transient), after applying the others and writing status', async () => {
    const { cluster, reconcile } = setUp({ routeSpec: { hostname: 'web.apps.example.com' } });
    cluster.reject.set(
      'CNAMERecord',
      new KubeApiError(503, 'ServiceUnavailable', 'etcd leader changed', 'PATCH', '/apis/…'),
    );

    const failure = await reconcile().catch((err: unknown) => err);
    expect(failure).toMatchObject({ reason: 'Transient', retryable: true });
    expect(cluster.writes.at(-1)).toBe('apply status');
    expect(cluster.childrenKinds().sort()).toEqual(['DomainMapping', 'Service']);
  });

  it('re-renders the Knative Service when the autoscale-defaults ConfigMap changes', async () => {
    const { cluster, reconcile } = setUp({});
    await reconcile();
    cluster.configMaps.set('autoscale-defaults', { data: { concurrency: '42' } });

    // The inventory records the new render's hash: one status write with the apply.
    expect(await reconcile()).toEqual(['apply Service web', 'apply status']);
    const ksvc = cluster.child({ apiVersion: 'serving.knative.dev/v1', kind: 'Service' }, NS, 'web');
    expect(JSON.stringify(ksvc?.spec)).toContain('"autoscaling.knative.dev/target":"42"');
  });

  it('applies no child and makes Ready False (InvalidConfig) while the dns-config is unusable', async () => {
    const { cluster, reconcile } = setUp({ routeSpec: { hostname: 'web.apps.example.com' } });
    cluster.configMaps.set('dns-config', { data: { zone: 'not a zone!' } });

    expect(await reconcile()).toEqual(['finalizer +', 'create CappRevision web-00001', 'apply status']);
    expect(cluster.childrenKinds()).toEqual([]);
    expect(condition(cluster.theCapp(), 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidConfig' });
  });

  it('names the certificate Secret in the DomainMapping once cert-manager has issued it', async () => {
    const { cluster, reconcile } = setUp({
      routeSpec: { hostname: 'web.apps.example.com', tlsEnabled: true },
    });
    await reconcile();
    const dm = (): KubeObject | undefined =>
      cluster.child(
        { apiVersion: 'serving.knative.dev/v1beta1', kind: 'DomainMapping' },
        NS,
        'web.apps.example.com',
      );
    expect(JSON.stringify(dm()?.spec)).not.toContain('secretName');

    cluster.secrets.add(`${NS}/${tlsSecretName('web.apps.example.com')}`);
    expect(await reconcile()).toEqual(['apply DomainMapping web.apps.example.com', 'apply status']);
    expect(JSON.stringify(dm()?.spec)).toContain(tlsSecretName('web.apps.example.com'));
  });

  it('does nothing for a Capp that is gone', async () => {
    const { cluster, reconcile } = setUp();
    cluster.objects.clear();
    expect(await reconcile()).toEqual([]);
  });

  describe('the syslog-ng logging backend (as v0.3.5)', () => {
    const LOGGED: Partial<CappSpec> = {
      logSpec: { type: 'elastic', host: '1.2.3.4', index: 'main', user: 'elastic', passwordSecret: 'creds' },
    };

    it('ships logs with a SyslogNGOutput and a SyslogNGFlow named after the Capp', async () => {
      const { cluster, reconcile } = setUp(LOGGED);
      expect(await reconcile('syslog-ng')).toEqual([
        'finalizer +',
        'create CappRevision web-00001',
        'apply Service web',
        'apply SyslogNGOutput web',
        'apply SyslogNGFlow web',
        'apply status',
      ]);
      expect(cluster.theCapp().status?.managedResources?.map((m) => m.kind)).toEqual([
        'Service',
        'SyslogNGOutput',
        'SyslogNGFlow',
      ]);
      expect(await reconcile('syslog-ng')).toEqual([]);
    });

    it("replaces the other backend's Output and Flow when the platform switches, and back", async () => {
      const { cluster, reconcile } = setUp(LOGGED);
      await reconcile('fluentd');
      expect(cluster.childrenKinds().sort()).toEqual(['Flow', 'Output', 'Service']);

      expect(await reconcile('syslog-ng')).toEqual([
        'apply SyslogNGOutput web',
        'apply SyslogNGFlow web',
        'delete Flow web',
        'delete Output web-elastic',
        'apply status',
      ]);
      expect(cluster.childrenKinds().sort()).toEqual(['Service', 'SyslogNGFlow', 'SyslogNGOutput']);

      expect(await reconcile('fluentd')).toEqual([
        'apply Output web-elastic',
        'apply Flow web',
        'delete SyslogNGFlow web',
        'delete SyslogNGOutput web',
        'apply status',
      ]);
    });
  });

  describe('CappRevisions (for kubectl users, as v0.3.5 keeps them)', () => {
    it('keeps one per change of spec, labels or annotations, ten at most, the oldest deleted', async () => {
      const { cluster, reconcile, annotate } = setUp({});
      await reconcile();
      expect(cluster.revisionNames()).toEqual(['web-00001']);
      for (let i = 1; i <= 11; i++) {
        annotate({ test: `test${i}` });
        const writes = await reconcile();
        expect(writes.filter((w) => w.includes('CappRevision'))).toEqual([
          ...(i >= 10 ? [`delete CappRevision web-${String(i - 9).padStart(5, '0')}`] : []),
          `create CappRevision web-${String(i + 1).padStart(5, '0')}`,
        ]);
      }
      expect(cluster.revisionNames()).toEqual(
        Array.from({ length: 10 }, (_, i) => `web-${String(i + 3).padStart(5, '0')}`),
      );
      const newest = cluster.child(
        { apiVersion: 'rcs.dana.io/v1alpha1', kind: 'CappRevision' },
        NS,
        'web-00012',
      );
      expect(newest?.spec).toEqual({
        revisionNumber: 12,
        cappTemplate: { cappSpec: cluster.theCapp().spec, annotations: { test: 'test11' } },
      });
      expect(await reconcile()).toEqual([]);
    });

    it('keeps none when turned off or when their CRD is not installed', async () => {
      const { cluster, reconcile } = setUp({});
      cluster.revisionsOff = true;
      expect(await reconcile()).toEqual(['finalizer +', 'apply Service web', 'apply status']);
    });

    it('applies the children and status when a CappRevision cannot be created, then asks for a retry', async () => {
      const { cluster, reconcile } = setUp({});
      cluster.reject.set(
        'CappRevision',
        new KubeApiError(503, 'ServiceUnavailable', 'etcd leader changed', 'POST', '/apis/…'),
      );

      const failure = await reconcile().catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(KubeApiError);
      expect(cluster.writes).toEqual([
        'finalizer +',
        'create CappRevision web-00001',
        'apply Service web',
        'apply status',
      ]);
      expect(cluster.events).toContain(
        'Warning RevisionFailed: CappRevision: 503 ServiceUnavailable: etcd leader changed',
      );
      cluster.reject.clear();
      expect(await reconcile()).toEqual(['create CappRevision web-00001']);
    });
  });

  describe('resource policies (spec.resourcePolicy, platform defaults in capp-resource-policy)', () => {
    const KSVC = { apiVersion: 'serving.knative.dev/v1', kind: 'Service' };
    const CERT = { apiVersion: 'cert-manager.io/v1', kind: 'Certificate' };
    const DM = { apiVersion: 'serving.knative.dev/v1beta1', kind: 'DomainMapping' };
    const NFSPVC = { apiVersion: 'nfspvc.dana.io/v1alpha1', kind: 'NfsPvc' };
    const inventory = (cluster: FakeCluster): string[] =>
      (cluster.theCapp().status?.managedResources ?? []).map(
        (m) => `${m.kind}/${m.name}${m.strategy ? ` (${m.strategy})` : ''}`,
      );
    const condition = (cluster: FakeCluster, type: string) =>
      cluster.theCapp().status?.conditions?.find((c) => c.type === type);
    const foreignService = (
      cluster: FakeCluster,
      managedFields: unknown[] = [{ manager: 'helm', operation: 'Update' }],
    ) =>
      cluster.put({
        ...KSVC,
        metadata: { name: 'web', namespace: NS, managedFields } as KubeObject['metadata'],
        spec: { template: { spec: { containers: [{ image: 'old:1' }] } } },
      });

    it('keeps an onCappDelete Certificate while the Capp lives, deletes it with the Capp', async () => {
      const { cluster, reconcile, edit } = setUp({
        routeSpec: { hostname: 'web.apps.example.com', tlsEnabled: true },
        resourcePolicy: {
          garbageCollect: { rules: [{ selector: { kinds: ['Certificate'] }, strategy: 'onCappDelete' }] },
        },
      });
      await reconcile();
      edit({ routeSpec: { hostname: 'web.apps.example.com', tlsEnabled: false } });
      const writes = await reconcile();
      expect(writes).not.toContain('delete Certificate web.apps.example.com');
      expect(cluster.child(CERT, NS, 'web.apps.example.com')).toBeDefined();
      expect(inventory(cluster)).toContain('Certificate/web.apps.example.com (onCappDelete)');
      expect(await reconcile()).toEqual([]); // converged: kept, and nothing more to say
      cluster.put({
        ...(cluster.theCapp() as unknown as KubeObject),
        metadata: {
          ...cluster.theCapp().metadata,
          deletionTimestamp: NOW.toISOString(),
          finalizers: [CAPP_FINALIZER],
        },
      });
      expect(await reconcile()).toContain('delete Certificate web.apps.example.com');
    });

    it('orphans a never NfsPvc when the Capp is deleted, and a new Capp of the same name adopts it', async () => {
      const policy = {
        garbageCollect: { rules: [{ selector: { kinds: ['NfsPvc' as const] }, strategy: 'never' as const }] },
      };
      const { cluster, reconcile } = setUp({ ...FULL, resourcePolicy: policy });
      await reconcile();
      const capp = cluster.theCapp();
      cluster.put({
        ...(capp as unknown as KubeObject),
        metadata: { ...capp.metadata, deletionTimestamp: NOW.toISOString() },
      });
      const writes = await reconcile();
      expect(writes).toContain('patch NfsPvc data');
      expect(writes).not.toContain('delete NfsPvc data');
      expect(writes).toContain('delete Service web');
      expect(cluster.events.join('\n')).toMatch(/Orphaned: left in place.*NfsPvc\/shop\/data/);
      const orphan = cluster.objects.get(objectId({ ...NFSPVC, metadata: { namespace: NS, name: 'data' } }));
      expect(orphan?.metadata.labels?.['rcs.dana.io/parent-capp']).toBeUndefined();
      expect(orphan?.metadata.ownerReferences).toBeUndefined();
      expect(orphan?.metadata.annotations?.['rcs.dana.io/orphaned-from']).toBe(`${NS}/web`);

      // The Capp is gone; a new one of the same name renders the same NfsPvc and adopts it.
      cluster.objects.delete(objectId(capp as unknown as KubeObject));
      cluster.put({
        ...(capp as unknown as KubeObject),
        metadata: { name: 'web', namespace: NS, uid: 'uid-web-2', generation: 1 },
      });
      const again = await reconcile();
      expect(again).toEqual(expect.arrayContaining(['apply NfsPvc data', 'patch NfsPvc data']));
      const adopted = cluster.child(NFSPVC, NS, 'data');
      expect(adopted?.metadata.labels?.['rcs.dana.io/parent-capp']).toBe('web');
      expect(adopted?.metadata.annotations?.['rcs.dana.io/orphaned-from']).toBeUndefined();
      expect(cluster.events.join('\n')).toMatch(/Adopted: taken over.*NfsPvc\/shop\/data/);
    });

    it('adopts an orphan again when the caches still show it as the deleted Capp’s', async () => {
      const policy = {
        garbageCollect: { rules: [{ selector: { kinds: ['NfsPvc' as const] }, strategy: 'never' as const }] },
      };
      const { cluster, reconcile } = setUp({ ...FULL, resourcePolicy: policy });
      await reconcile();
      const capp = cluster.theCapp();
      const id = objectId({ ...NFSPVC, metadata: { namespace: NS, name: 'data' } });
      const before = cluster.objects.get(id) as KubeObject;
      cluster.put({
        ...(capp as unknown as KubeObject),
        metadata: { ...capp.metadata, deletionTimestamp: NOW.toISOString() },
      });
      await reconcile();
      cluster.objects.delete(objectId(capp as unknown as KubeObject));
      // The watch has not delivered the orphaning yet: the cache holds the child as it was.
      cluster.staleCache.set(id, before);
      cluster.put({
        ...(capp as unknown as KubeObject),
        metadata: { name: 'web', namespace: NS, uid: 'uid-web-2', generation: 1 },
      });
      const again = await reconcile();
      expect(cluster.reads).toContain('get NfsPvc data');
      expect(again).toEqual(expect.arrayContaining(['apply NfsPvc data', 'patch NfsPvc data']));
      const adopted = cluster.objects.get(id);
      expect(adopted?.metadata.labels?.['rcs.dana.io/parent-capp']).toBe('web');
      expect(adopted?.metadata.annotations?.['rcs.dana.io/orphaned-from']).toBeUndefined();
    });

    it('applies once at paths: another manager’s resources stay, a later edit still updates the image', async () => {
      const { cluster, reconcile, edit } = setUp({
        resourcePolicy: {
          applyOnce: {
            enabled: true,
            rules: [
              { selector: { kinds: ['Service'] }, paths: ['spec.template.spec.containers[*].resources'] },
            ],
          },
        },
      });
      await reconcile();
      const ksvc = cluster.child(KSVC, NS, 'web') as KubeObject;
      const tuned = structuredClone(ksvc);
      const [first] = (tuned.spec as { template: { spec: { containers: Record<string, unknown>[] } } })
        .template.spec.containers;
      if (first) first['resources'] = { requests: { cpu: '750m' } };
      cluster.put(tuned);
      expect(await reconcile()).toEqual([]); // not fought
      edit({
        configurationSpec: {
          template: {
            spec: { containers: [{ name: 'web', image: 'ghcr.io/dana-team/capp-gin-app:v0.3.0' }] },
          },
        },
      });
      expect(await reconcile()).toContain('apply Service web');
      const container = (
        cluster.child(KSVC, NS, 'web')?.spec as {
          template: { spec: { containers: Record<string, unknown>[] } };
        }
      ).template.spec.containers[0];
      expect(container).toMatchObject({
        image: 'ghcr.io/dana-team/capp-gin-app:v0.3.0',
        resources: { requests: { cpu: '750m' } },
      });
    });

    it('applies a whole child once per Capp generation when applyOnce has no rules', async () => {
      const { cluster, reconcile, edit } = setUp({ resourcePolicy: { applyOnce: { enabled: true } } });
      await reconcile();
      const ksvc = cluster.child(KSVC, NS, 'web') as KubeObject;
      cluster.put({ ...ksvc, spec: { template: { spec: { containers: [{ image: 'edited-by-hand:1' }] } } } });
      expect(await reconcile()).toEqual([]);
      edit({ minReplicas: 2 });
      expect(await reconcile()).toContain('apply Service web');
      expect(JSON.stringify(cluster.child(KSVC, NS, 'web')?.spec)).toContain('capp-gin-app');
    });

    it('with stateKeep false leaves a hand edit alone until the render changes', async () => {
      const { cluster, reconcile, edit } = setUp({ resourcePolicy: { stateKeep: false } });
      await reconcile();
      const ksvc = cluster.child(KSVC, NS, 'web') as KubeObject;
      cluster.put({ ...ksvc, spec: { template: { spec: { containers: [{ image: 'edited-by-hand:1' }] } } } });
      expect(await reconcile()).toEqual([]);
      edit({ minReplicas: 2 });
      expect(await reconcile()).toContain('apply Service web');
    });

    it('refuses to take over a Service it did not create, naming it and its managers, and prunes nothing', async () => {
      const { cluster, reconcile } = setUp({});
      foreignService(cluster, [
        { manager: 'helm', operation: 'Update' },
        { manager: 'kubectl', operation: 'Apply' },
      ]);
      // Terminal until something changes (the Capp, the platform policy; the periodic resync looks again).
      await expect(reconcile()).rejects.toMatchObject({ reason: 'ChildRejected', retryable: false });
      const writes = [...cluster.writes];
      expect(writes).not.toContain('apply Service web');
      expect(condition(cluster, 'KnativeServiceReady')).toMatchObject({
        status: 'False',
        reason: 'TakeOverRefused',
      });
      expect(condition(cluster, 'KnativeServiceReady')?.message).toContain('managed by helm, kubectl');
      expect(cluster.events.join('\n')).toContain('Warning TakeOverRefused');
      expect(
        JSON.stringify(
          cluster.objects.get(objectId({ ...KSVC, metadata: { namespace: NS, name: 'web' } }))?.spec,
        ),
      ).toContain('old:1');
    });

    it('adopts it with takeOver adopt: no delete, the previous manager’s spec-only fields removed', async () => {
      const { cluster, reconcile } = setUp({ resourcePolicy: { takeOver: 'adopt' } });
      cluster.put({
        ...KSVC,
        metadata: {
          name: 'web',
          namespace: NS,
          managedFields: [
            {
              manager: 'manager',
              operation: 'Update',
              fieldsV1: { 'f:spec': { 'f:template': { 'f:spec': { 'f:nodeSelector': {} } } } },
            },
          ],
        } as KubeObject['metadata'],
        spec: { template: { spec: { containers: [{ image: 'old:1' }], nodeSelector: { disk: 'ssd' } } } },
      });
      const writes = await reconcile();
      expect(writes).toEqual(expect.arrayContaining(['apply Service web', 'patch Service web']));
      expect(writes).not.toContain('delete Service web');
      expect(JSON.stringify(cluster.child(KSVC, NS, 'web')?.spec)).not.toContain('nodeSelector');
      expect(cluster.events.join('\n')).toMatch(/Adopted: taken over.*Service\/shop\/web/);
    });

    it('collects garbage only once the new state is in place: a failed Certificate keeps the working DomainMapping', async () => {
      const { cluster, reconcile, edit } = setUp({
        routeSpec: { hostname: 'web.apps.example.com', tlsEnabled: true },
      });
      await reconcile();
      cluster.reject.set(
        'Certificate',
        new InvalidError(422, 'Invalid', 'Certificate is invalid', 'PATCH', '/'),
      );
      edit({ routeSpec: { hostname: 'shop.apps.example.com', tlsEnabled: true } });
      await expect(reconcile()).rejects.toThrow(ReconcileError);
      expect(cluster.child(DM, NS, 'web.apps.example.com')).toBeDefined();
      expect(inventory(cluster)).toEqual(
        expect.arrayContaining(['DomainMapping/web.apps.example.com', 'Certificate/web.apps.example.com']),
      );
      expect(condition(cluster, 'Ready')?.message).toContain(
        'garbage collection waits until every child applies',
      );
      cluster.reject.clear();
      await reconcile();
      expect(cluster.child(DM, NS, 'web.apps.example.com')).toBeUndefined();
    });

    it('rebuilds a wiped inventory from labels: nothing deleted, nothing orphaned', async () => {
      const { cluster, reconcile } = setUp();
      await reconcile();
      const before = inventory(cluster).sort();
      const capp = cluster.theCapp();
      cluster.put({ ...(capp as unknown as KubeObject), status: {} });
      const writes = await reconcile();
      expect(
        writes.filter((w) => w.startsWith('delete') || (w.startsWith('apply ') && w !== 'apply status')),
      ).toEqual([]);
      expect(inventory(cluster).sort()).toEqual(before);
      expect(cluster.theCapp().status?.managedResources?.[0]).toMatchObject({
        hash: expect.any(String),
        generation: 1,
      });
    });

    it('takes platform defaults from capp-resource-policy, the Capp’s own rules winning for what they select', async () => {
      const { cluster, reconcile } = setUp({
        routeSpec: { hostname: 'web.apps.example.com', tlsEnabled: true },
        resourcePolicy: { takeOver: 'refuse' },
      });
      cluster.configMaps.set('capp-resource-policy', { data: { policy: 'takeOver: adopt\n' } });
      foreignService(cluster);
      await expect(reconcile()).rejects.toThrow(/not this Capp's/);
      expect(condition(cluster, 'KnativeServiceReady')?.reason).toBe('TakeOverRefused');
      cluster.configMaps.set('capp-resource-policy', { data: { policy: 'takeOver: sometimes\n' } });
      await reconcile();
      expect(condition(cluster, 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidConfig' });
      expect(condition(cluster, 'Ready')?.message).toContain('policy.takeOver');
    });

    it('migrates a container-app-operator v0.3.5 Capp: children adopted, SyslogNG kinds replaced, its finalizer replaced', async () => {
      const { cluster, reconcile } = setUp(
        { logSpec: FULL.logSpec },
        { finalizers: ['dana.io/capp-cleanup'] },
      );
      cluster.configMaps.set('capp-resource-policy', { data: { policy: 'takeOver: adopt\n' } });
      const v035 = { 'rcs.dana.io/parent-capp': 'web', 'rcs.dana.io/managed-by': 'capp' };
      cluster.put({
        ...KSVC,
        metadata: {
          name: 'web',
          namespace: NS,
          labels: v035,
          managedFields: [{ manager: 'manager', operation: 'Update' }],
        } as KubeObject['metadata'],
        spec: { template: { spec: { containers: [{ image: 'ghcr.io/dana-team/capp-gin-app:v0.2.0' }] } } },
      });
      for (const kind of ['SyslogNGFlow', 'SyslogNGOutput'])
        cluster.put({
          apiVersion: 'logging.banzaicloud.io/v1beta1',
          kind,
          metadata: { name: 'web', namespace: NS, labels: v035 },
          spec: {},
        });
      const writes = await reconcile();
      expect(writes).toEqual(
        expect.arrayContaining([
          'apply Service web',
          'apply Flow web',
          'delete SyslogNGFlow web',
          'delete SyslogNGOutput web',
          'patch Capp web',
        ]),
      );
      expect(writes).not.toContain('delete Service web');
      expect(cluster.theCapp().metadata.finalizers).toEqual([CAPP_FINALIZER]);
      expect(cluster.events.join('\n')).toMatch(
        /Migrated: taken over from container-app-operator v0.3.5.*Service\/shop\/web/,
      );
      expect(await reconcile()).toEqual([]);
    });
  });
});

describe('CappReconciler with traits', () => {
  const trait = (name: string, spec: CappTrait['spec']): CappTrait => ({
    apiVersion: 'rcs.dana.io/v1alpha1',
    kind: 'CappTrait',
    metadata: { name, generation: 1 },
    spec,
  });
  const sidecar = trait('sidecar', {
    podDisruptive: true,
    parameters: { type: 'object', required: ['image'], properties: { image: { type: 'string' } } },
    patch: {
      template:
        '{"spec": {"template": {"spec": {"containers": [{"name": "proxy", "image": parameter.image}]}}}}',
    },
  });
  const expose = trait('expose', {
    outputs: [
      {
        name: 'expose',
        template: '{"apiVersion": "v1", "kind": "Service", "spec": {"ports": [{"port": 80}]}}',
      },
    ],
  });
  type PodSpecOf = { template: { spec: { containers?: Array<{ name: string; image: string }> } } };
  const ksvcContainers = (cluster: FakeCluster): string[] => {
    const spec = cluster.objects.get('serving.knative.dev/v1/Service/shop/web')?.spec as
      PodSpecOf | undefined;
    return (spec?.template.spec.containers ?? []).map((c) => `${c.name}=${c.image}`);
  };

  it('applies a trait to the Knative Service, reports it in status, then spends no write', async () => {
    const { cluster, reconcile } = setUp({ traits: [{ type: 'sidecar', properties: { image: 'envoy:1' } }] });
    cluster.traitsByName.set('sidecar', sidecar);
    await reconcile();
    expect(ksvcContainers(cluster)).toEqual(['web=ghcr.io/dana-team/capp-gin-app:v0.2.0', 'proxy=envoy:1']);
    expect(cluster.theCapp().status?.traits).toEqual([
      { type: 'sidecar', generation: 1, podDisruptive: true },
    ]);
    // A new Capp: its Created Event says what was made.
    expect(cluster.events.filter((e) => e.includes('TraitsChanged'))).toEqual([]);
    expect(await reconcile()).toEqual([]);
  });

  it('records a TraitsChanged Event naming pod-disruptive traits when a trait in effect changes', async () => {
    const { cluster, reconcile } = setUp({ traits: [{ type: 'sidecar', properties: { image: 'envoy:1' } }] });
    cluster.traitsByName.set('sidecar', sidecar);
    await reconcile();
    cluster.traitsByName.set('sidecar', { ...sidecar, metadata: { name: 'sidecar', generation: 2 } });
    expect(await reconcile()).toEqual(['apply status']);
    expect(cluster.events).toEqual([
      'Normal TraitsChanged: applied sidecar; pod-disruptive: sidecar (pods restart)',
    ]);
  });

  it('writes no child of a Capp whose traits conflict, and says where in Ready=False', async () => {
    const { cluster, reconcile, edit } = setUp({});
    await reconcile();
    cluster.traitsByName.set('sidecar', sidecar);
    edit({
      traits: [
        { type: 'sidecar', properties: { image: 'envoy:1' } },
        { type: 'sidecar', properties: { image: 'envoy:2' } },
      ],
    });
    const failure = reconcile();
    await expect(failure).rejects.toThrow(ReconcileError);
    await expect(failure).rejects.toMatchObject({ reason: 'TraitFailed', retryable: false });
    expect(cluster.writes).toEqual(['create CappRevision web-00002', 'apply status']);
    const ready = condition(cluster.theCapp(), 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'TraitConflict' });
    expect(ready?.message).toBe(
      'Service shop/web: spec.template.spec.containers[name=proxy].image is set by trait "sidecar" (spec.traits[0]) and differently by trait "sidecar" (spec.traits[1])',
    );
    expect(ksvcContainers(cluster)).toEqual(['web=ghcr.io/dana-team/capp-gin-app:v0.2.0']);
  });

  it('reports a missing trait, and converges once it exists', async () => {
    const { cluster, reconcile } = setUp({ traits: [{ type: 'sidecar', properties: { image: 'envoy:1' } }] });
    await expect(reconcile()).rejects.toMatchObject({ reason: 'TraitFailed', retryable: false });
    expect(condition(cluster.theCapp(), 'Ready')).toMatchObject({
      status: 'False',
      reason: 'TraitNotFound',
      message: 'no CappTrait "sidecar" exists',
    });
    cluster.traitsByName.set('sidecar', sidecar);
    await reconcile();
    expect(ksvcContainers(cluster)).toContain('proxy=envoy:1');
  });

  it("applies a trait's output as a child and deletes it when the trait is removed", async () => {
    const { cluster, reconcile, edit } = setUp({ traits: [{ type: 'expose' }] });
    cluster.traitsByName.set('expose', expose);
    expect(await reconcile()).toContain('apply Service web-expose');
    expect(cluster.theCapp().status?.managedResources?.map((m) => `${m.apiVersion} ${m.name}`)).toContain(
      'v1 web-expose',
    );
    edit({ traits: [] });
    expect(await reconcile()).toContain('delete Service web-expose');
    expect(cluster.theCapp().status?.traits).toBeUndefined();
  });

  it('auto-applies a trait to Capps of the namespaces it selects', async () => {
    const { cluster, reconcile } = setUp({});
    cluster.traitsByName.set(
      'platform-sidecar',
      trait('platform-sidecar', {
        ...sidecar.spec,
        autoApply: { namespaceSelector: { matchLabels: { mesh: 'on' } }, properties: { image: 'mesh:1' } },
      }),
    );
    await reconcile();
    expect(ksvcContainers(cluster)).toEqual(['web=ghcr.io/dana-team/capp-gin-app:v0.2.0']);
    cluster.namespaces.set(NS, { mesh: 'on' });
    await reconcile();
    expect(ksvcContainers(cluster)).toContain('proxy=mesh:1');
    expect(cluster.theCapp().status?.traits).toEqual([
      { type: 'platform-sidecar', generation: 1, podDisruptive: true, autoApplied: true },
    ]);
  });
});

describe('CappReconciler with a processing.http trait', () => {
  const identity: CappTrait = {
    apiVersion: 'rcs.dana.io/v1alpha1',
    kind: 'CappTrait',
    metadata: { name: 'service-account', generation: 1 },
    spec: {
      processing: { http: { url: '"http://identity.internal/sa?team=" & parameter.team' } },
      patch: { template: '{"spec": {"template": {"spec": {"serviceAccountName": processing.output.name}}}}' },
    },
  };

  function setUpWith(fetch: () => Promise<unknown>) {
    const cluster = new FakeCluster();
    cluster.traitsByName.set('service-account', identity);
    cluster.put({
      apiVersion: 'rcs.dana.io/v1alpha1',
      kind: 'Capp',
      metadata: { name: 'web', namespace: NS, uid: 'uid-web', generation: 1 },
      spec: cappSpec({
        traits: [{ type: 'service-account', properties: { team: 'pay' } }],
      }) as unknown as Record<string, unknown>,
    });
    const reconciler = new CappReconciler({
      read: cluster,
      client: cluster,
      events: cluster,
      logger: pino({ level: 'silent' }),
      clock: () => NOW,
      traitHttp: { fetch },
    });
    return { cluster, reconcile: () => reconciler.reconcile(NS, 'web') };
  }

  it('patches with the answer of the HTTP port', async () => {
    const { cluster, reconcile } = setUpWith(async () => ({ name: 'pay-sa' }));
    await reconcile();
    const ksvc = cluster.objects.get('serving.knative.dev/v1/Service/shop/web');
    expect(
      (ksvc?.spec as { template: { spec: Record<string, unknown> } }).template.spec['serviceAccountName'],
    ).toBe('pay-sa');
  });

  it('reports a failed fetch in Ready=False, writes no child and is retried', async () => {
    const { cluster, reconcile } = setUpWith(async () => {
      throw new Error('GET http://identity.internal/sa answered 503');
    });
    await expect(reconcile()).rejects.toMatchObject({ reason: 'TraitFailed', retryable: true });
    expect(condition(cluster.theCapp(), 'Ready')).toMatchObject({
      status: 'False',
      reason: 'TraitProcessingFailed',
      message: 'trait "service-account": processing.http: GET http://identity.internal/sa answered 503',
    });
    expect(cluster.childrenKinds()).toEqual([]);
  });

  it('does not retry a request the operator refuses (a host not allowed)', async () => {
    const { reconcile } = setUpWith(async () => {
      throw new TraitHttpRefused('host "identity.internal" is not allowed');
    });
    await expect(reconcile()).rejects.toMatchObject({ reason: 'TraitFailed', retryable: false });
  });
});
