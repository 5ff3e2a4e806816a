import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { Capp, CappTrait, CappTraitRef, KubeObject } from '@capp/capp-model';
import { parse } from 'yaml';

import { renderChildren } from '../render';
import { AUTOSCALE, DNS, makeCapp } from '../test-fixtures';
import { applyTraits, TraitError, TraitHttpRequest, validateCappTrait, validateCappTraits } from './traits';

/** The chart's catalogue, as shipped. */
const catalogueDir = join(__dirname, '..', '..', '..', '..', '..', 'charts', 'capp-platform', 'traits');
const catalogue = new Map<string, CappTrait>(
  readdirSync(catalogueDir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => {
      const t = parse(readFileSync(join(catalogueDir, f), 'utf8')) as CappTrait;
      return [t.metadata.name, t];
    }),
);

const lookup = (name: string): CappTrait | undefined => catalogue.get(name);

async function withTraits(
  traits: CappTraitRef[],
  spec: Partial<Capp['spec']> = {},
  fetch?: (r: TraitHttpRequest) => Promise<unknown>,
): Promise<KubeObject[]> {
  const capp = makeCapp({ ...spec, traits });
  const children = renderChildren(capp, { autoscale: AUTOSCALE, dns: DNS });
  return (await applyTraits({ capp, children, lookup, fetch })).children;
}

const ksvc = (children: KubeObject[]): KubeObject =>
  children.find((c) => c.kind === 'Service' && c.apiVersion === 'serving.knative.dev/v1') as KubeObject;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const podSpec = (children: KubeObject[]): any => (ksvc(children).spec as any).template.spec;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const template = (children: KubeObject[]): any => (ksvc(children).spec as any).template;

async function failure(p: Promise<unknown>): Promise<TraitError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TraitError) return err;
    throw err;
  }
  throw new Error('expected a TraitError');
}

describe('the trait catalogue of the chart', () => {
  it('holds the nine seed traits, each a valid CappTrait', () => {
    expect([...catalogue.keys()].sort()).toEqual([
      'env',
      'expose',
      'init-container',
      'kautoscale',
      'node-affinity',
      'recreate',
      'service-account',
      'sidecar',
      'virtual-group',
    ]);
    for (const trait of catalogue.values())
      expect([trait.metadata.name, validateCappTrait(trait)]).toEqual([trait.metadata.name, []]);
  });

  describe('sidecar', () => {
    it('adds a container next to the app', async () => {
      const out = await withTraits([
        { type: 'sidecar', properties: { name: 'proxy', image: 'envoy:1', env: { A: '1' } } },
      ]);
      expect(podSpec(out).containers).toEqual([
        expect.objectContaining({ name: 'web', image: 'ghcr.io/acme/web:1' }),
        { name: 'proxy', image: 'envoy:1', env: [{ name: 'A', value: '1' }] },
      ]);
    });

    it('adds two sidecars with distinct names as two containers', async () => {
      const out = await withTraits([
        { type: 'sidecar', properties: { name: 'proxy', image: 'envoy:1' } },
        { type: 'sidecar', properties: { name: 'logs', image: 'fluent-bit:3' } },
      ]);
      expect(podSpec(out).containers.map((c: { name: string }) => c.name)).toEqual(['web', 'proxy', 'logs']);
    });

    it('merges two sidecars of the same name into one container (merge by name, not append)', async () => {
      const out = await withTraits([
        { type: 'sidecar', properties: { name: 'proxy', image: 'envoy:1', env: { A: '1' } } },
        {
          type: 'sidecar',
          properties: { name: 'proxy', image: 'envoy:1', args: ['--fast'], env: { B: '2' } },
        },
      ]);
      expect(podSpec(out).containers).toEqual([
        expect.objectContaining({ name: 'web' }),
        {
          name: 'proxy',
          image: 'envoy:1',
          args: ['--fast'],
          env: [
            { name: 'A', value: '1' },
            { name: 'B', value: '2' },
          ],
        },
      ]);
    });

    it('reports two sidecars of the same name with different images as a conflict naming the path and both traits', async () => {
      const err = await failure(
        withTraits([
          { type: 'sidecar', properties: { name: 'proxy', image: 'envoy:1' } },
          { type: 'sidecar', properties: { name: 'proxy', image: 'envoy:2' } },
        ]),
      );
      expect(err.reason).toBe('TraitConflict');
      expect(err.message).toBe(
        'Service team-a/web: spec.template.spec.containers[name=proxy].image is set by trait "sidecar" (spec.traits[0]) and differently by trait "sidecar" (spec.traits[1])',
      );
    });
  });

  describe('env', () => {
    it('merges variables by name inside the container found by name, keeping the others', async () => {
      const out = await withTraits(
        [{ type: 'env', properties: { container: 'web', env: { LOG_LEVEL: 'debug', REGION: 'eu' } } }],
        {
          configurationSpec: {
            template: {
              spec: {
                containers: [
                  { name: 'first', image: 'a:1' },
                  {
                    name: 'web',
                    image: 'b:1',
                    env: [
                      { name: 'KEEP', value: 'x' },
                      { name: 'REGION', value: 'eu' },
                    ],
                  },
                ],
              },
            },
          },
        },
      );
      expect(podSpec(out).containers).toEqual([
        { name: 'first', image: 'a:1' },
        {
          name: 'web',
          image: 'b:1',
          env: [
            { name: 'KEEP', value: 'x' },
            { name: 'REGION', value: 'eu' },
            { name: 'LOG_LEVEL', value: 'debug' },
          ],
        },
      ]);
    });

    it('targets the first container by default', async () => {
      const out = await withTraits([{ type: 'env', properties: { env: { A: 'b' } } }]);
      expect(podSpec(out).containers[0].env).toEqual([{ name: 'A', value: 'b' }]);
    });

    it('refuses to change a variable the Capp sets, naming the path and both sources', async () => {
      const err = await failure(
        withTraits([{ type: 'env', properties: { env: { REGION: 'us' } } }], {
          configurationSpec: {
            template: {
              spec: { containers: [{ name: 'web', image: 'b:1', env: [{ name: 'REGION', value: 'eu' }] }] },
            },
          },
        }),
      );
      expect(err.message).toBe(
        'Service team-a/web: spec.template.spec.containers[name=web].env[name=REGION].value is set by the Capp and differently by trait "env"',
      );
    });
  });

  it('node-affinity iterates a map of node labels into a list of match expressions', async () => {
    const out = await withTraits([
      { type: 'node-affinity', properties: { nodeLabels: { disktype: 'ssd', zone: ['a', 'b'] } } },
    ]);
    expect(podSpec(out).affinity).toEqual({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            {
              matchExpressions: [
                { key: 'disktype', operator: 'In', values: ['ssd'] },
                { key: 'zone', operator: 'In', values: ['a', 'b'] },
              ],
            },
          ],
        },
      },
    });
  });

  it('node-affinity with a single label still gives a list', async () => {
    const out = await withTraits([
      { type: 'node-affinity', properties: { nodeLabels: { disktype: 'ssd' } } },
    ]);
    expect(
      podSpec(out).affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]
        .matchExpressions,
    ).toEqual([{ key: 'disktype', operator: 'In', values: ['ssd'] }]);
  });

  it('expose outputs a Service owned by the Capp and labelled as its child', async () => {
    const out = await withTraits([{ type: 'expose', properties: { port: 5432 } }]);
    const svc = out.find((c) => c.apiVersion === 'v1' && c.kind === 'Service');
    expect(svc).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: expect.objectContaining({
        name: 'web-expose',
        namespace: 'team-a',
        labels: expect.objectContaining({
          'rcs.dana.io/parent-capp': 'web',
          'app.kubernetes.io/managed-by': 'capp-operator',
        }),
        ownerReferences: [expect.objectContaining({ kind: 'Capp', name: 'web', controller: true })],
      }),
      spec: {
        type: 'ClusterIP',
        selector: { 'serving.knative.dev/service': 'web' },
        ports: [{ name: 'tcp', port: 5432, targetPort: 8080, protocol: 'TCP' }],
      },
    });
    expect(out[out.length - 1]).toBe(svc); // outputs apply after the Capp's own children
  });

  it('recreate drops the traffic split with retainKeys and rolls out at once', async () => {
    const plain = ksvc(
      await withTraits([], {
        routeSpec: { trafficTarget: { latestRevision: true, percent: 100, tag: 'x' } },
      }),
    );
    expect(plain.spec?.['traffic']).toBeDefined();
    const out = ksvc(
      await withTraits([{ type: 'recreate' }], {
        routeSpec: { trafficTarget: { latestRevision: true, percent: 100, tag: 'x' } },
      }),
    );
    expect(Object.keys(out.spec ?? {})).toEqual(['template']);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    expect((out.spec as any).template.metadata.annotations['serving.knative.dev/rollout-duration']).toBe(
      '0s',
    );
  });

  it('virtual-group labels the Knative Service and its pods', async () => {
    const out = await withTraits([{ type: 'virtual-group', properties: { group: 'payments' } }]);
    expect(ksvc(out).metadata.labels).toEqual(
      expect.objectContaining({ 'rcs.dana.io/virtual-group': 'payments' }),
    );
    expect(template(out).metadata.labels).toEqual(
      expect.objectContaining({ 'rcs.dana.io/virtual-group': 'payments' }),
    );
  });

  it('kautoscale adds the autoscaler annotations the Capp does not set', async () => {
    const out = await withTraits([{ type: 'kautoscale', properties: { window: '60s', initialScale: 0 } }]);
    expect(template(out).metadata.annotations).toEqual(
      expect.objectContaining({
        'autoscaling.knative.dev/window': '60s',
        'autoscaling.knative.dev/initial-scale': '0',
        'autoscaling.knative.dev/target': '10',
      }),
    );
  });

  it('kautoscale changing the target the Capp sets is a conflict with the annotation path', async () => {
    const err = await failure(withTraits([{ type: 'kautoscale', properties: { target: 50 } }]));
    expect(err.reason).toBe('TraitConflict');
    expect(err.message).toBe(
      'Service team-a/web: spec.template.metadata.annotations["autoscaling.knative.dev/target"] is set by the Capp and differently by trait "kautoscale"',
    );
  });

  it('init-container runs before the app with a shared volume', async () => {
    const out = await withTraits([
      { type: 'init-container', properties: { name: 'migrate', image: 'flyway:10', args: ['migrate'] } },
    ]);
    const spec = podSpec(out);
    expect(spec.initContainers).toEqual([
      {
        name: 'migrate',
        image: 'flyway:10',
        args: ['migrate'],
        volumeMounts: [{ name: 'migrate-shared', mountPath: '/shared' }],
      },
    ]);
    expect(spec.containers[0].volumeMounts).toEqual([{ name: 'migrate-shared', mountPath: '/shared' }]);
    expect(spec.volumes).toEqual([{ name: 'migrate-shared', emptyDir: {} }]);
  });

  it('service-account asks the identity service and runs the pods as its answer', async () => {
    const asked: TraitHttpRequest[] = [];
    const out = await withTraits(
      [{ type: 'service-account', properties: { team: 'pay ments' } }],
      {},
      async (r) => {
        asked.push(r);
        return { serviceAccountName: 'payments-sa' };
      },
    );
    expect(asked).toEqual([
      {
        trait: 'service-account',
        url: 'http://identity.platform.svc/serviceaccounts?team=pay%20ments&namespace=team-a',
        headers: { Accept: 'application/json' },
        timeoutSeconds: 5,
        ttlSeconds: 300,
      },
    ]);
    expect(podSpec(out).serviceAccountName).toBe('payments-sa');
  });

  it('service-account offline (no HTTP port) fails with a message', async () => {
    const err = await failure(withTraits([{ type: 'service-account', properties: { team: 'a' } }]));
    expect(err.reason).toBe('TraitProcessingFailed');
  });

  describe('the example Capp of each trait (examples/traits/)', () => {
    const examplesDir = join(catalogueDir, '..', '..', '..', 'examples', 'traits');
    const examples = readdirSync(examplesDir).filter((f) => f.endsWith('.yaml'));

    it('exist for every catalogue trait', () => {
      expect(examples.map((f) => f.replace(/\.yaml$/, '')).sort()).toEqual([...catalogue.keys()].sort());
    });

    it.each(examples)('%s validates against the catalogue and renders with it', async (file) => {
      const capp = parse(readFileSync(join(examplesDir, file), 'utf8')) as Capp;
      expect(validateCappTraits(capp, lookup)).toEqual([]);
      const children = renderChildren(capp, { autoscale: AUTOSCALE, dns: DNS });
      const out = await applyTraits({
        capp,
        children,
        lookup,
        fetch: async () => ({ serviceAccountName: 'payments-sa' }),
      });
      expect(out.applied.map((a) => a.type)).toEqual([file.replace(/\.yaml$/, '')]);
    });
  });

  describe('validation of a Capp against the catalogue', () => {
    it('names an unknown trait and bad properties by field', () => {
      const capp = makeCapp({
        traits: [
          { type: 'nope' },
          { type: 'sidecar', properties: { name: 'Bad_Name', image: 'x', extra: 1 } },
          { type: 'expose', properties: {} },
        ],
      });
      expect(validateCappTraits(capp, lookup)).toEqual([
        { path: 'spec.traits[0].type', rule: 'traitExists', message: 'no CappTrait "nope" exists' },
        expect.objectContaining({
          path: 'spec.traits[1].properties.extra',
          rule: 'parameters.additionalProperties',
        }),
        expect.objectContaining({ path: 'spec.traits[1].properties.name', rule: 'parameters.pattern' }),
        { path: 'spec.traits[2].properties.port', rule: 'parameters.required', message: 'is required' },
      ]);
    });

    it('refuses a trait that applies to a child the Capp does not have', () => {
      const dmTrait: CappTrait = {
        apiVersion: 'rcs.dana.io/v1alpha1',
        kind: 'CappTrait',
        metadata: { name: 'dm-annotate' },
        spec: {
          appliesTo: ['domainmappings.serving.knative.dev'],
          patch: { template: '{"metadata": {"annotations": {"a": "b"}}}' },
        },
      };
      const capp = makeCapp({ traits: [{ type: 'dm-annotate' }] });
      expect(validateCappTraits(capp, () => dmTrait)).toEqual([
        {
          path: 'spec.traits[0].type',
          rule: 'traitAppliesTo',
          message:
            'CappTrait "dm-annotate" applies to domainmappings.serving.knative.dev, which this Capp does not have',
        },
      ]);
      expect(
        validateCappTraits(
          makeCapp({ traits: [{ type: 'dm-annotate' }], routeSpec: { hostname: 'a.example.com' } }),
          () => dmTrait,
        ),
      ).toEqual([]);
    });
  });
});
