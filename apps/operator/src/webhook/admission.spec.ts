import {
  type CappTrait,
  type KnativeSettings,
  knativeSettings,
  PLATFORM_KNATIVE_SETTINGS,
} from '@capp/capp-model';

import {
  AdmissionRequest,
  ClusterLookups,
  mutateAdmission,
  validateAdmission,
  validateTraitAdmission,
} from './admission';

const capp = (
  spec: Record<string, unknown> = {},
  metadata: Record<string, unknown> = {},
): Record<string, unknown> => ({
  apiVersion: 'rcs.dana.io/v1alpha1',
  kind: 'Capp',
  metadata: { name: 'web', namespace: 'team', ...metadata },
  spec: { configurationSpec: { template: { spec: { containers: [{ image: 'nginx' }] } } }, ...spec },
});

const request = (object: unknown, extra: Partial<AdmissionRequest> = {}): AdmissionRequest => ({
  uid: 'u1',
  operation: 'CREATE',
  namespace: 'team',
  name: 'web',
  userInfo: { username: 'alice' },
  object,
  ...extra,
});

const sidecar: CappTrait = {
  apiVersion: 'rcs.dana.io/v1alpha1',
  kind: 'CappTrait',
  metadata: { name: 'sidecar' },
  spec: {
    parameters: {
      type: 'object',
      required: ['image'],
      properties: { image: { type: 'string' }, port: { type: 'integer', minimum: 1 } },
    },
    patch: {
      template: '{"spec": {"template": {"spec": {"containers": [{"name": "s", "image": parameter.image}]}}}}',
    },
  },
};

const lookups = (
  secrets: string[] = [],
  hostnames: Record<string, string> = {},
  users: Record<string, string[]> = {},
  knative: KnativeSettings = PLATFORM_KNATIVE_SETTINGS,
): ClusterLookups => ({
  trait: (name) => (name === 'sidecar' ? sidecar : undefined),
  cappsUsingTrait: (name) =>
    (users[name] ?? []).map((k) => ({ namespace: k.split('/')[0], name: k.split('/')[1] })),
  secretExists: async (ns, name) => secrets.includes(`${ns}/${name}`),
  knativeSettings: () => knative,
  cappsWithHostname: (h) =>
    Object.entries(hostnames)
      .filter(([, host]) => host === h)
      .map(([key]) => ({ namespace: key.split('/')[0], name: key.split('/')[1] })),
});

const elastic = {
  type: 'elastic',
  host: 'es.example.com',
  index: 'logs',
  user: 'u',
  passwordSecret: 'es-pass',
};
const decode = (patch?: string): unknown => JSON.parse(Buffer.from(patch ?? '', 'base64').toString('utf8'));

describe("validating admission: Knative Serving's rules with the cluster's settings", () => {
  const withPort = (name: string): Record<string, unknown> =>
    capp({
      configurationSpec: {
        template: { spec: { containers: [{ image: 'nginx', ports: [{ name, containerPort: 8080 }] }] } },
      },
    });
  const withNodeSelector = capp({
    configurationSpec: {
      template: { spec: { containers: [{ image: 'nginx' }], nodeSelector: { disk: 'ssd' } } },
    },
  });

  it('refuses a port name Knative refuses, naming the Capp field and the rule', async () => {
    const res = await validateAdmission(request(withPort('web')), lookups());
    expect(res.allowed).toBe(false);
    expect(res.status?.details?.causes).toEqual([
      expect.objectContaining({
        field: 'spec.configurationSpec.template.spec.containers[0].ports[0].name',
        reason: 'knative.portName',
      }),
    ]);
  });

  it("follows the cluster's config-features (nodeSelector off by default, admitted once enabled)", async () => {
    expect((await validateAdmission(request(withNodeSelector), lookups())).allowed).toBe(false);
    const on = knativeSettings({ features: { 'kubernetes.podspec-nodeselector': 'enabled' } });
    expect((await validateAdmission(request(withNodeSelector), lookups([], {}, {}, on))).allowed).toBe(true);
  });

  it('ratchets on update: what the stored Capp already broke is a warning, what the update adds is refused', async () => {
    const unrelated = await validateAdmission(
      request(
        { ...withPort('web'), metadata: { name: 'web', namespace: 'team', labels: { a: 'b' } } },
        {
          operation: 'UPDATE',
          oldObject: withPort('web'),
        },
      ),
      lookups(),
    );
    expect(unrelated.allowed).toBe(true);
    expect(unrelated.warnings?.[0]).toMatch(
      /ports\[0\]\.name: .*knative\.portName; already so in the stored Capp/,
    );
    const worse = await validateAdmission(
      request(withNodeSelector, { operation: 'UPDATE', oldObject: capp() }),
      lookups(),
    );
    expect(worse.allowed).toBe(false);
  });
});

describe('validating admission', () => {
  it('refuses what the shared schema refuses, naming field and rule', async () => {
    const res = await validateAdmission(
      request(capp({ scaleMetric: 'gpu', logSpec: { ...elastic, user: undefined } })),
      lookups(['team/es-pass']),
    );
    expect(res.allowed).toBe(false);
    expect(res.status?.code).toBe(422);
    expect(res.status?.details?.causes.map((c) => `${c.field}:${c.reason}`)).toEqual(
      expect.arrayContaining(['spec.scaleMetric:enum', 'spec.logSpec.user:requiredForElastic']),
    );
    expect(res.status?.message).toContain('spec.scaleMetric');
  });

  it('admits TLS without a hostname, as v0.3.5 does, with a warning kubectl prints', async () => {
    const res = await validateAdmission(request(capp({ routeSpec: { tlsEnabled: true } })), lookups());
    expect(res).toEqual({
      uid: 'u1',
      allowed: true,
      warnings: [
        'spec.routeSpec.tlsEnabled: tlsEnabled has no effect without routeSpec.hostname: no Certificate is issued (rule tlsWithoutHostname)',
      ],
    });
    expect((await validateAdmission(request(capp()), lookups())).warnings).toBeUndefined();
  });

  it('refuses a log Secret that does not exist in the namespace, and accepts one that does', async () => {
    const missing = await validateAdmission(request(capp({ logSpec: elastic })), lookups());
    expect(missing.status?.details?.causes).toEqual([
      {
        field: 'spec.logSpec.passwordSecret',
        reason: 'secretExists',
        message: 'Secret "es-pass" not found in namespace "team"',
      },
    ]);
    expect(
      (await validateAdmission(request(capp({ logSpec: elastic })), lookups(['team/es-pass']))).allowed,
    ).toBe(true);
  });

  it('refuses a hostname another Capp already uses, but not the Capp’s own', async () => {
    const taken = lookups([], { 'other/shop': 'shop.example.com' });
    const res = await validateAdmission(
      request(capp({ routeSpec: { hostname: 'shop.example.com' } })),
      taken,
    );
    expect(res.status?.details?.causes).toEqual([
      {
        field: 'spec.routeSpec.hostname',
        reason: 'uniqueHostname',
        message: '"shop.example.com" is already used by capp other/shop',
      },
    ]);
    const own = lookups([], { 'team/web': 'shop.example.com' });
    expect(
      (await validateAdmission(request(capp({ routeSpec: { hostname: 'shop.example.com' } })), own)).allowed,
    ).toBe(true);
  });

  it('does not re-check the cluster for what an update leaves unchanged, and never blocks deletes, status or finalizer removal', async () => {
    const old = capp({ logSpec: elastic, routeSpec: { hostname: 'shop.example.com' } });
    const updated = capp(
      { logSpec: elastic, routeSpec: { hostname: 'shop.example.com' } },
      { labels: { a: 'b' } },
    );
    const hostile = lookups([], { 'other/shop': 'shop.example.com' }); // Secret gone, hostname clashes
    expect(
      (await validateAdmission(request(updated, { operation: 'UPDATE', oldObject: old }), hostile)).allowed,
    ).toBe(true);
    expect(
      (await validateAdmission(request(undefined, { operation: 'DELETE', oldObject: old }), hostile)).allowed,
    ).toBe(true);
    expect(
      (await validateAdmission(request(capp({ scaleMetric: 'gpu' }), { subResource: 'status' }), hostile))
        .allowed,
    ).toBe(true);
    const deleting = capp({ logSpec: elastic }, { deletionTimestamp: '2026-11-23T00:00:00Z' });
    expect(
      (await validateAdmission(request(deleting, { operation: 'UPDATE', oldObject: old }), hostile)).allowed,
    ).toBe(true);
  });
});

describe('mutating admission', () => {
  it('defaults scaleMetric and state and records the requesting user', () => {
    const res = mutateAdmission(request(capp()));
    expect(res).toMatchObject({ allowed: true, patchType: 'JSONPatch' });
    expect(decode(res.patch)).toEqual([
      { op: 'add', path: '/spec/scaleMetric', value: 'concurrency' },
      { op: 'add', path: '/spec/state', value: 'enabled' },
      { op: 'add', path: '/metadata/annotations', value: { 'rcs.dana.io/last-updated-by': 'alice' } },
    ]);
  });

  it('keeps explicit values and replaces a last-updated-by the user tried to set', () => {
    const body = capp(
      { scaleMetric: 'rps', state: 'disabled' },
      { annotations: { 'rcs.dana.io/last-updated-by': 'mallory', x: 'y' } },
    );
    expect(decode(mutateAdmission(request(body)).patch)).toEqual([
      { op: 'replace', path: '/metadata/annotations/rcs.dana.io~1last-updated-by', value: 'alice' },
    ]);
  });

  it('lets a trusted updater (the REST API) name the end user', () => {
    const body = capp(
      { scaleMetric: 'rps', state: 'enabled' },
      { annotations: { 'rcs.dana.io/last-updated-by': 'bob' } },
    );
    const api = 'system:serviceaccount:capp-system:capp-api';
    expect(
      mutateAdmission(request(body, { userInfo: { username: api } }), new Set([api])).patch,
    ).toBeUndefined();
  });

  it('leaves an update that changes nothing of the content (e.g. the operator’s finalizer) unattributed', () => {
    const old = capp(
      { scaleMetric: 'rps', state: 'enabled' },
      { annotations: { 'rcs.dana.io/last-updated-by': 'alice' } },
    );
    const withFinalizer = capp(
      { scaleMetric: 'rps', state: 'enabled' },
      { annotations: { 'rcs.dana.io/last-updated-by': 'alice' }, finalizers: ['rcs.dana.io/capp-cleanup'] },
    );
    const res = mutateAdmission(
      request(withFinalizer, {
        operation: 'UPDATE',
        oldObject: old,
        userInfo: { username: 'system:serviceaccount:x:capp-operator' },
      }),
    );
    expect(res.patch).toBeUndefined();
  });
});

describe('validating admission of traits', () => {
  it('refuses an unknown trait and bad properties, naming the field', async () => {
    const res = await validateAdmission(
      request(capp({ traits: [{ type: 'nope' }, { type: 'sidecar', properties: { port: 0 } }] })),
      lookups(),
    );
    expect(res.allowed).toBe(false);
    expect(res.status?.details?.causes).toEqual([
      { field: 'spec.traits[0].type', reason: 'traitExists', message: 'no CappTrait "nope" exists' },
      { field: 'spec.traits[1].properties.image', reason: 'parameters.required', message: 'is required' },
      { field: 'spec.traits[1].properties.port', reason: 'parameters.minimum', message: 'must be >= 1' },
    ]);
  });

  it('admits valid traits, and an unrelated update of a Capp whose trait is gone since', async () => {
    expect(
      (
        await validateAdmission(
          request(capp({ traits: [{ type: 'sidecar', properties: { image: 'x' } }] })),
          lookups(),
        )
      ).allowed,
    ).toBe(true);
    const gone = capp({ traits: [{ type: 'deleted' }] });
    const relabelled = capp({ traits: [{ type: 'deleted' }] }, { labels: { a: 'b' } });
    expect(
      (await validateAdmission(request(relabelled, { operation: 'UPDATE', oldObject: gone }), lookups()))
        .allowed,
    ).toBe(true);
  });

  it('refuses to delete a CappTrait in use, listing its users', () => {
    const res = validateTraitAdmission(
      { uid: 'u', operation: 'DELETE', name: 'sidecar', oldObject: sidecar },
      lookups([], {}, { sidecar: ['team/web', 'team/api'] }),
    );
    expect(res).toMatchObject({
      allowed: false,
      status: {
        code: 409,
        message:
          'CappTrait "sidecar" is in use by 2 Capp(s): team/web, team/api; remove it from their spec.traits first',
      },
    });
    expect(
      validateTraitAdmission({ uid: 'u', operation: 'DELETE', name: 'sidecar' }, lookups()).allowed,
    ).toBe(true);
  });

  it('refuses a CappTrait whose template does not parse or whose schema does not compile', () => {
    const bad = {
      ...sidecar,
      spec: { parameters: { type: 'nonsense' }, patch: { template: '{"a": ' } },
    };
    const res = validateTraitAdmission({ uid: 'u', operation: 'CREATE', object: bad }, lookups());
    expect(res.allowed).toBe(false);
    expect(res.status?.details?.causes.map((c) => `${c.field} ${c.reason}`)).toEqual([
      'spec.parameters jsonSchema',
      'spec.patch.template template',
    ]);
    expect(res.status?.message).toMatch(/^the capptrait is invalid: /);
  });
});
