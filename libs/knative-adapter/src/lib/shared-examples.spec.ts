/**
 * Checks against the shared material beside the repository (`../shared`): every example Capp renders
 * with the example ConfigMaps, and every child this library renders is valid against the upstream CRD
 * of its kind (the structural schema the API server applies: types, required fields, enums, patterns,
 * and no field it would prune). Skipped with a notice when `shared/` is absent.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { Capp, CappSpec } from '@capp/capp-model';
import { parse, parseAllDocuments } from 'yaml';

import { parseAutoscaleDefaults, parseDnsConfig } from './config';
import { renderChildren } from './render';
import { isClusterScoped } from './resources';
import { AUTOSCALE, DNS, makeCapp } from './test-fixtures';
import { DesiredChild } from './types';

/** `shared/<sub>` in the nearest ancestor directory holding one. */
function findShared(sub: string): string | undefined {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, 'shared', sub);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

const examplesDir = findShared('examples');
const crdsDir = findShared('crds');
if (!examplesDir)
  console.warn(
    'notice: shared/examples not found beside the repository; the example Capps were not rendered',
  );
if (!crdsDir)
  console.warn(
    'notice: shared/crds not found beside the repository; children were not checked against the CRDs',
  );

type Schema = Record<string, unknown>;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The problems the API server's structural schema would find in `value` (or fields it would silently prune). */
function schemaProblems(value: unknown, schema: Schema, path: string): string[] {
  if (schema['x-kubernetes-int-or-string']) {
    return Number.isInteger(value) || typeof value === 'string'
      ? []
      : [`${path}: must be an integer or a string`];
  }
  const problems: string[] = [];
  const enumValues = schema['enum'];
  if (Array.isArray(enumValues) && !enumValues.includes(value))
    problems.push(`${path}: ${JSON.stringify(value)} not in enum`);
  switch (schema['type']) {
    case 'object': {
      if (!isObject(value)) return [`${path}: must be an object`];
      for (const key of (schema['required'] as string[] | undefined) ?? []) {
        if (!(key in value)) problems.push(`${path}.${key}: is required`);
      }
      const properties = (schema['properties'] as Record<string, Schema> | undefined) ?? {};
      const additional = schema['additionalProperties'];
      for (const [key, v] of Object.entries(value)) {
        if (properties[key]) problems.push(...schemaProblems(v, properties[key], `${path}.${key}`));
        else if (isObject(additional)) problems.push(...schemaProblems(v, additional, `${path}.${key}`));
        else if (additional !== true && !schema['x-kubernetes-preserve-unknown-fields']) {
          problems.push(`${path}.${key}: unknown field (the API server would prune it)`);
        }
      }
      return problems;
    }
    case 'array':
      if (!Array.isArray(value)) return [`${path}: must be an array`];
      return value.flatMap((item, i) => schemaProblems(item, schema['items'] as Schema, `${path}[${i}]`));
    case 'string':
      if (typeof value !== 'string') return [`${path}: must be a string`];
      if (typeof schema['pattern'] === 'string' && !new RegExp(schema['pattern']).test(value)) {
        problems.push(`${path}: does not match ${schema['pattern']}`);
      }
      return problems;
    case 'integer':
      return Number.isInteger(value) ? problems : [`${path}: must be an integer`];
    case 'number':
      return typeof value === 'number' ? problems : [`${path}: must be a number`];
    case 'boolean':
      return typeof value === 'boolean' ? problems : [`${path}: must be a boolean`];
    default:
      return problems;
  }
}

interface Crd {
  scope: 'Namespaced' | 'Cluster';
  schema: Schema;
}

function loadCrds(dir: string): Map<string, Crd> {
  const crds = new Map<string, Crd>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      const crd = doc.toJS() as { kind?: string; spec?: Record<string, unknown> } | null;
      if (crd?.kind !== 'CustomResourceDefinition' || !crd.spec) continue;
      const { group, names, scope, versions } = crd.spec as {
        group: string;
        names: { kind: string };
        scope: Crd['scope'];
        versions: Array<{ name: string; served: boolean; schema: { openAPIV3Schema: Schema } }>;
      };
      for (const v of versions.filter((x) => x.served)) {
        crds.set(`${group}/${v.name}/${names.kind}`, { scope, schema: v.schema.openAPIV3Schema });
      }
    }
  }
  return crds;
}

/** Everything wrong with `child` against its CRD, including the CNAMERecord's CEL "required parameter" rules. */
function crdProblems(child: DesiredChild, crds: Map<string, Crd>): string[] {
  const crd = crds.get(`${child.apiVersion}/${child.kind}`);
  if (!crd) return [`no served CRD for ${child.apiVersion} ${child.kind}`];
  // ObjectMeta is the API server's own business (its CRD schema is just `type: object`).
  const metadata: Schema = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  const properties = { ...(crd.schema['properties'] as Record<string, Schema>), metadata };
  const problems = schemaProblems(child, { ...crd.schema, properties }, '');
  if ((crd.scope === 'Cluster') !== isClusterScoped(child)) problems.push(`scope is ${crd.scope}`);
  if ((crd.scope === 'Cluster') === (child.metadata.namespace !== undefined))
    problems.push('namespace does not match the scope');
  if (child.kind === 'CNAMERecord') {
    const forProvider = (child.spec?.['forProvider'] ?? {}) as Record<string, unknown>;
    for (const key of ['name', 'cname'])
      if (!forProvider[key]) problems.push(`spec.forProvider.${key} is a required parameter`);
  }
  return problems;
}

let crdCache: Map<string, Crd> | undefined;
const crds = (): Map<string, Crd> => (crdCache ??= crdsDir ? loadCrds(crdsDir) : new Map());

const maybeExamples = examplesDir ? describe : describe.skip;
maybeExamples('the shared examples', () => {
  const dir = examplesDir as string;
  const read = (file: string): Record<string, unknown> =>
    parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  const capps = files.filter((f) => read(f)['kind'] === 'Capp');
  const autoscale = parseAutoscaleDefaults(
    read('autoscale-defaults.yaml') as { data?: Record<string, string> },
  );
  const dns = parseDnsConfig(read('dns-config.yaml') as { data?: Record<string, string> });

  it('include Capps and both ConfigMaps', () => {
    expect(capps.length).toBeGreaterThan(0);
    expect(dns).toBeDefined();
  });

  it.each(capps)('%s renders with dns-config and autoscale-defaults', (file) => {
    const children = renderChildren(
      read(file) as unknown as Capp,
      { autoscale, dns },
      { tlsSecretReady: true },
    );
    expect(children[0]).toMatchObject({
      kind: 'Service',
      metadata: { name: (read(file)['metadata'] as { name: string }).name },
    });
    if (crdsDir) expect(children.flatMap((c) => crdProblems(c, crds()))).toEqual([]);
  });

  it('renders capp-full.yaml into every kind of child, the domain in the example zone', () => {
    if (!capps.includes('capp-full.yaml')) return;
    const children = renderChildren(
      read('capp-full.yaml') as unknown as Capp,
      { autoscale, dns },
      { tlsSecretReady: true },
    );
    expect(children.map((c) => `${c.kind}/${c.metadata.name}`)).toEqual([
      'Service/capp-sample',
      'NfsPvc/test-nfspvc',
      'Output/capp-sample-elastic',
      'Flow/capp-sample',
      'Certificate/capp.dev.capp-zone.com',
      'DomainMapping/capp.dev.capp-zone.com',
      'CNAMERecord/capp.dev.capp-zone.com',
    ]);
  });
});

const maybeCrds = crdsDir ? describe : describe.skip;
maybeCrds('every rendered child against the upstream CRD of its kind', () => {
  const volumes = [
    { name: 'data', server: 'nfs.example.com', path: '/exports/data', capacity: { storage: '200Gi' } },
    { name: 'scratch', server: '10.0.0.5', path: '/scratch', capacity: { storage: 1073741824 } },
  ];
  const cases: Array<[string, Partial<CappSpec>]> = [
    ['a minimal Capp', {}],
    [
      'an elastic Capp with TLS, volumes, bounds and traffic',
      {
        scaleMetric: 'cpu',
        minReplicas: 1,
        maxReplicas: 5,
        routeSpec: {
          hostname: 'shop',
          tlsEnabled: true,
          routeTimeoutSeconds: 60,
          trafficTarget: { latestRevision: true },
        },
        volumesSpec: { nfsVolumes: volumes },
        logSpec: {
          type: 'elastic',
          host: 'es.example.com',
          index: 'main',
          user: 'elastic',
          passwordSecret: 'es-pass',
        },
      },
    ],
    [
      'a splunk Capp with a hostname in the zone and no TLS',
      {
        scaleMetric: 'rps',
        routeSpec: { hostname: 'a.b.apps.example.com.' },
        logSpec: { type: 'splunk', host: 'hec.example.com', index: 'apps', hecTokenSecret: 'hec-token' },
      },
    ],
  ];

  it.each(cases)('%s', (_title, spec) => {
    const children = renderChildren(
      makeCapp(spec),
      { autoscale: AUTOSCALE, dns: DNS },
      { tlsSecretReady: true },
    );
    expect(
      children.flatMap((c) => crdProblems(c, crds()).map((p) => `${c.kind}/${c.metadata.name}${p}`)),
    ).toEqual([]);
  });

  it('would catch a field the CRD does not know, or a value of the wrong type deep inside', () => {
    const [ksvc] = renderChildren(makeCapp(), { autoscale: AUTOSCALE });
    const broken = structuredClone(ksvc) as DesiredChild & {
      spec: { template: { spec: Record<string, unknown> } };
    };
    broken.spec.template.spec['enableServiceLinks'] = 'no';
    (broken.spec as Record<string, unknown>)['bogus'] = true;
    expect(crdProblems(broken, crds())).toEqual([
      '.spec.template.spec.enableServiceLinks: must be a boolean',
      '.spec.bogus: unknown field (the API server would prune it)',
    ]);
  });
});
