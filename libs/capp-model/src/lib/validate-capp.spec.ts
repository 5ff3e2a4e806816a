import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

import { cappSchema } from './capp.schema';
import { Capp } from './capp.types';
import { CappDto } from './dto';
import { issuesFromValidationErrors } from './schema/class-validator';
import { cappSpecWarnings, cappWarnings, formatIssues, formatWarnings, validateCapp } from './validate-capp';

type SpecInput = Record<string, unknown>;

function capp(
  spec: SpecInput = {},
  metadata: Record<string, unknown> = { name: 'web', namespace: 'team-a' },
): Record<string, unknown> {
  return {
    apiVersion: 'rcs.dana.io/v1alpha1',
    kind: 'Capp',
    metadata,
    spec: {
      configurationSpec: {
        template: { spec: { containers: [{ name: 'web', image: 'ghcr.io/acme/web:1' }] } },
      },
      ...spec,
    },
  };
}

const nfs = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'data',
  server: 'nfs.example.com',
  path: '/exports/data',
  capacity: { storage: '200Gi' },
  ...over,
});

function viaClassValidator(obj: unknown): ReturnType<typeof validateCapp> {
  const instance = plainToInstance(CappDto, obj) as object;
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true });
  return issuesFromValidationErrors(errors, cappSchema);
}

const sortIssues = (issues: ReturnType<typeof validateCapp>): string[] =>
  issues.map((i) => `${i.path} ${i.rule} ${i.message}`).sort();

describe('validateCapp', () => {
  const valid: Array<[string, Record<string, unknown>]> = [
    ['a minimal Capp', capp()],
    [
      'a container without a name, as Knative allows',
      capp({ configurationSpec: { template: { spec: { containers: [{ image: 'nginx' }] } } } }),
    ],
    [
      'any PodSpec field beside containers',
      capp({
        configurationSpec: {
          template: {
            metadata: { annotations: { a: 'b' } },
            spec: {
              containers: [{ image: 'nginx', ports: [{ containerPort: 8080 }] }],
              serviceAccountName: 'sa',
              containerConcurrency: 5,
              timeoutSeconds: 30,
            },
          },
        },
      }),
    ],
    ['every scale metric', capp({ scaleMetric: 'memory', minReplicas: 0, maxReplicas: 1 })],
    ['min equal to max replicas', capp({ minReplicas: 3, maxReplicas: 3 })],
    [
      'a hostname with TLS',
      capp({ routeSpec: { hostname: 'shop.example.com', tlsEnabled: true, routeTimeoutSeconds: 60 } }),
    ],
    ['a hostname with a trailing dot', capp({ routeSpec: { hostname: 'shop.example.com.' } })],
    ['a single-label hostname the zone completes', capp({ routeSpec: { hostname: 'shop' } })],
    ['TLS explicitly off without a hostname', capp({ routeSpec: { tlsEnabled: false } })],
    ['TLS without a hostname, as v0.3.5 accepts (a warning)', capp({ routeSpec: { tlsEnabled: true } })],
    ['an empty hostname, as v0.3.5 accepts', capp({ routeSpec: { hostname: '', tlsEnabled: false } })],
    [
      'what a v0.3.5 Go client sends: empty routeSpec, trafficTarget, logSpec and volumesSpec, null timestamps',
      {
        ...capp({
          configurationSpec: {
            template: {
              metadata: { creationTimestamp: null },
              spec: {
                containers: [
                  {
                    name: 'capp-default-test',
                    image: 'ghcr.io/dana-team/capp-gin-app:v0.2.0',
                    env: [{ name: 'APP_NAME', value: 'capp-default-test' }],
                    resources: {},
                  },
                ],
              },
            },
          },
          routeSpec: { trafficTarget: {} },
          logSpec: {},
          volumesSpec: {},
        }),
        status: {
          applicationLinks: {},
          knativeObjectStatus: {},
          stateStatus: { lastChange: null },
          loggingStatus: { syslogngflow: {}, syslogngoutput: {} },
          routeStatus: {
            domainMappingObjectStatus: {},
            dnsRecordObjectStatus: {},
            certificateObjectStatus: {},
          },
          volumesStatus: {},
        },
      },
    ],
    ['a traffic target', capp({ routeSpec: { trafficTarget: { latestRevision: true, percent: 100 } } })],
    [
      'elastic logging with every field',
      capp({
        logSpec: { type: 'elastic', host: 'es', index: 'main', user: 'elastic', passwordSecret: 'es-pass' },
      }),
    ],
    [
      'splunk logging with a HEC token secret',
      capp({ logSpec: { type: 'splunk', host: 'splunk', index: 'main', hecTokenSecret: 'hec' } }),
    ],
    ['a logSpec without a type (v0.3 allowed it)', capp({ logSpec: { host: 'es' } })],
    [
      'several NFS volumes, one with an integer size',
      capp({
        configurationSpec: {
          template: {
            spec: {
              containers: [
                {
                  name: 'web',
                  image: 'ghcr.io/acme/web:1',
                  volumeMounts: [
                    { name: 'data', mountPath: '/data' },
                    { name: 'logs', mountPath: '/logs' },
                  ],
                },
              ],
            },
          },
        },
        volumesSpec: { nfsVolumes: [nfs(), nfs({ name: 'logs', capacity: { storage: 1073741824 } })] },
      }),
    ],
    ['a site and a disabled state', capp({ site: 'east', state: 'disabled' })],
    ['generateName instead of a name', capp({}, { generateName: 'web-' })],
  ];

  it.each(valid)('accepts %s', (_title, obj) => {
    expect(validateCapp(obj)).toEqual([]);
    expect(viaClassValidator(obj)).toEqual([]);
  });

  const invalid: Array<[string, unknown, string, string, string]> = [
    ['a non-object', 'hello', '', 'type', 'must be an object, got string'],
    [
      'a wrong apiVersion',
      { ...capp(), apiVersion: 'rcs.dana.io/v1' },
      'apiVersion',
      'enum',
      'must be one of "rcs.dana.io/v1alpha1", got "rcs.dana.io/v1"',
    ],
    ['a wrong kind', { ...capp(), kind: 'Service' }, 'kind', 'enum', 'must be one of "Capp", got "Service"'],
    [
      'a missing spec',
      { apiVersion: 'rcs.dana.io/v1alpha1', kind: 'Capp', metadata: { name: 'a' } },
      'spec',
      'required',
      'is required',
    ],
    [
      'a name that is not a DNS label',
      capp({}, { name: 'Web_1' }),
      'metadata.name',
      'name',
      'metadata.name must be a DNS-1035 label: lowercase letters, digits and "-", starting with a letter and ending with a letter or digit, at most 63 characters',
    ],
    [
      'a name over 63 characters',
      capp({}, { name: 'a'.repeat(64) }),
      'metadata.name',
      'name',
      'metadata.name must be a DNS-1035 label: lowercase letters, digits and "-", starting with a letter and ending with a letter or digit, at most 63 characters',
    ],
    [
      'a label value that is not a string',
      capp({}, { name: 'a', labels: { team: 1 } }),
      'metadata.labels.team',
      'type',
      'must be a string, got number',
    ],
    [
      'a label key Kubernetes would refuse',
      capp({}, { name: 'a', labels: { 'bad key!': 'x' } }),
      'metadata.labels.bad key!',
      'pattern',
      expect.stringMatching(/^key must be a qualified name/),
    ],
    [
      'a label key whose name part is over 63 characters',
      capp({}, { name: 'a', labels: { [`example.com/${'n'.repeat(64)}`]: 'x' } }),
      `metadata.labels.example.com/${'n'.repeat(64)}`,
      'pattern',
      expect.stringMatching(/^key must be a qualified name/),
    ],
    [
      'a label value Kubernetes would refuse',
      capp({}, { name: 'a', labels: { team: 'a b' } }),
      'metadata.labels.team',
      'pattern',
      expect.stringMatching(/a Kubernetes label value/),
    ],
    [
      'a label value over 63 characters',
      capp({}, { name: 'a', labels: { team: 'v'.repeat(64) } }),
      'metadata.labels.team',
      'maxLength',
      'must be at most 63 characters',
    ],
    [
      'an annotation key Kubernetes would refuse',
      capp({}, { name: 'a', annotations: { '/x': 'y' } }),
      'metadata.annotations./x',
      'pattern',
      expect.stringMatching(/^key must be a qualified name/),
    ],
    [
      'annotations over 256 KiB in all',
      capp({}, { name: 'a', annotations: { a: 'x'.repeat(200_000), b: 'y'.repeat(70_000) } }),
      'metadata.annotations',
      'maxSize',
      'must be at most 262144 bytes in all (keys and values), got 270002',
    ],
    [
      'a missing configurationSpec',
      { ...capp(), spec: {} },
      'spec.configurationSpec',
      'required',
      'is required',
    ],
    [
      'no containers',
      capp({ configurationSpec: { template: { spec: { containers: [] } } } }),
      'spec.configurationSpec.template.spec.containers',
      'minItems',
      'must have at least 1 item',
    ],
    [
      'a container image that is not a string',
      capp({ configurationSpec: { template: { spec: { containers: [{ image: 5 }] } } } }),
      'spec.configurationSpec.template.spec.containers[0].image',
      'type',
      'must be a string, got number',
    ],
    [
      'a negative containerConcurrency',
      capp({
        configurationSpec: {
          template: { spec: { containers: [{ image: 'nginx' }], containerConcurrency: -1 } },
        },
      }),
      'spec.configurationSpec.template.spec.containerConcurrency',
      'minimum',
      'must be ≥ 0',
    ],
    [
      'an unknown scale metric',
      capp({ scaleMetric: 'latency' }),
      'spec.scaleMetric',
      'enum',
      'must be one of "concurrency", "rps", "cpu", "memory", got "latency"',
    ],
    [
      'an unknown state',
      capp({ state: 'paused' }),
      'spec.state',
      'enum',
      'must be one of "enabled", "disabled", got "paused"',
    ],
    ['negative minReplicas', capp({ minReplicas: -1 }), 'spec.minReplicas', 'minimum', 'must be ≥ 0'],
    ['zero maxReplicas', capp({ maxReplicas: 0 }), 'spec.maxReplicas', 'minimum', 'must be ≥ 1'],
    [
      'fractional minReplicas',
      capp({ minReplicas: 1.5 }),
      'spec.minReplicas',
      'type',
      'must be an integer, got number',
    ],
    [
      'maxReplicas below minReplicas',
      capp({ minReplicas: 5, maxReplicas: 2 }),
      'spec.maxReplicas',
      'maxReplicasAtLeastMinReplicas',
      'maxReplicas must be greater than or equal to minReplicas',
    ],
    [
      'a hostname with upper case and a space',
      capp({ routeSpec: { hostname: 'My App.com' } }),
      'spec.routeSpec.hostname',
      'pattern',
      'must be a lowercase DNS name such as "app.example.com" (letters, digits, "-" and ".")',
    ],
    [
      'a hostname over 253 characters',
      capp({ routeSpec: { hostname: `${'a'.repeat(60)}.`.repeat(5) + 'com' } }),
      'spec.routeSpec.hostname',
      'maxLength',
      'must be at most 253 characters',
    ],
    [
      'TLS given as a string',
      capp({ routeSpec: { hostname: 'a.com', tlsEnabled: 'yes' } }),
      'spec.routeSpec.tlsEnabled',
      'type',
      'must be a boolean, got string',
    ],
    [
      'a negative route timeout',
      capp({ routeSpec: { routeTimeoutSeconds: -5 } }),
      'spec.routeSpec.routeTimeoutSeconds',
      'minimum',
      'must be ≥ 0',
    ],
    [
      'a traffic percent over 100',
      capp({ routeSpec: { trafficTarget: { percent: 101 } } }),
      'spec.routeSpec.trafficTarget.percent',
      'maximum',
      'must be ≤ 100',
    ],
    [
      'an unknown log type',
      capp({ logSpec: { type: 'loki' } }),
      'spec.logSpec.type',
      'enum',
      'must be one of "elastic", "splunk", got "loki"',
    ],
    [
      'elastic without a password secret',
      capp({ logSpec: { type: 'elastic', host: 'es', index: 'i', user: 'u' } }),
      'spec.logSpec.passwordSecret',
      'requiredForElastic',
      'passwordSecret is required when logSpec.type is "elastic"',
    ],
    [
      'elastic without a host',
      capp({ logSpec: { type: 'elastic', index: 'i', user: 'u', passwordSecret: 'p' } }),
      'spec.logSpec.host',
      'requiredForElastic',
      'host is required when logSpec.type is "elastic"',
    ],
    [
      'splunk without a HEC token secret',
      capp({ logSpec: { type: 'splunk', host: 's', index: 'i' } }),
      'spec.logSpec.hecTokenSecret',
      'requiredForSplunk',
      'hecTokenSecret is required when logSpec.type is "splunk"',
    ],
    [
      'a HEC token secret for elastic',
      capp({
        logSpec: {
          type: 'elastic',
          host: 'es',
          index: 'i',
          user: 'u',
          passwordSecret: 'p',
          hecTokenSecret: 'h',
        },
      }),
      'spec.logSpec.hecTokenSecret',
      'hecTokenSecretOnlyForSplunk',
      'hecTokenSecret is only used when logSpec.type is "splunk"',
    ],
    [
      'a literal password instead of a Secret',
      capp({
        logSpec: {
          type: 'elastic',
          host: 'es',
          index: 'i',
          user: 'u',
          passwordSecret: 'p',
          password: 'hunter2',
        },
      }),
      'spec.logSpec.password',
      'unknownField',
      'is not a known field',
    ],
    [
      'a password secret that is not a Secret name',
      capp({
        logSpec: { type: 'elastic', host: 'es', index: 'i', user: 'u', passwordSecret: 'Not A Secret' },
      }),
      'spec.logSpec.passwordSecret',
      'pattern',
      'must be the name of a Secret (a DNS-1123 subdomain)',
    ],
    [
      'an NFS volume without a server',
      capp({ volumesSpec: { nfsVolumes: [{ name: 'd', path: '/x', capacity: { storage: '1Gi' } }] } }),
      'spec.volumesSpec.nfsVolumes[0].server',
      'required',
      'is required',
    ],
    [
      'an NFS volume with a relative path',
      capp({ volumesSpec: { nfsVolumes: [nfs({ path: 'exports' })] } }),
      'spec.volumesSpec.nfsVolumes[0].path',
      'pattern',
      'must be an absolute path (start with "/")',
    ],
    [
      'an NFS volume with an invalid name',
      capp({ volumesSpec: { nfsVolumes: [nfs({ name: 'Data_1' })] } }),
      'spec.volumesSpec.nfsVolumes[0].name',
      'pattern',
      'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit',
    ],
    [
      'an NFS volume with a bad size',
      capp({ volumesSpec: { nfsVolumes: [nfs({ capacity: { storage: 'lots' } })] } }),
      'spec.volumesSpec.nfsVolumes[0].capacity.storage',
      'quantity',
      'must be a quantity such as "200Gi" or "500M", got "lots"',
    ],
    [
      'an NFS volume without a size',
      capp({ volumesSpec: { nfsVolumes: [nfs({ capacity: {} })] } }),
      'spec.volumesSpec.nfsVolumes[0].capacity.storage',
      'required',
      'is required',
    ],
    [
      'two NFS volumes with one name',
      capp({ volumesSpec: { nfsVolumes: [nfs(), nfs()] } }),
      'spec.volumesSpec.nfsVolumes[1].name',
      'unique',
      'duplicate name "data"',
    ],
    ['an unknown spec field', capp({ replicas: 3 }), 'spec.replicas', 'unknownField', 'is not a known field'],
  ];

  it.each(invalid)('rejects %s, naming the field and the rule', (_title, obj, path, rule, message) => {
    expect(validateCapp(obj)).toEqual([{ path, rule, message }]);
  });

  it.each(invalid.filter(([, obj]) => typeof obj === 'object'))(
    'the class-validator classes find the same problem in %s',
    (_title, obj) => {
      expect(sortIssues(viaClassValidator(obj))).toEqual(sortIssues(validateCapp(obj)));
    },
  );

  it('reports every problem of an object at once', () => {
    const obj = capp(
      { scaleMetric: 'x', minReplicas: -1, routeSpec: { hostname: 'BAD' } },
      { name: 'UPPER' },
    );
    expect(validateCapp(obj).map((i) => i.path)).toEqual([
      'spec.scaleMetric',
      'spec.minReplicas',
      'spec.routeSpec.hostname',
      'metadata.name',
    ]);
  });

  it('formats issues as "<field path>: <message>" lines', () => {
    expect(formatIssues(validateCapp(capp({ minReplicas: 5, maxReplicas: 2 })))).toEqual([
      'spec.maxReplicas: maxReplicas must be greater than or equal to minReplicas',
    ]);
  });

  it('keeps unknown PodSpec fields when the class-validator pipe transforms a body', () => {
    const obj = capp({
      configurationSpec: {
        template: {
          spec: {
            containers: [{ image: 'nginx', ports: [{ containerPort: 80 }] }],
            nodeSelector: { a: 'b' },
          },
        },
      },
    });
    const instance = plainToInstance(CappDto, obj) as unknown as Capp;
    expect(validateSync(instance as object, { whitelist: true, forbidNonWhitelisted: true })).toEqual([]);
    expect(instance.spec.configurationSpec.template.spec['nodeSelector']).toEqual({ a: 'b' });
    expect(instance.spec.configurationSpec.template.spec.containers[0]['ports']).toEqual([
      { containerPort: 80 },
    ]);
  });
});

describe('cappWarnings', () => {
  it('warns that TLS without a hostname has no effect, naming the field and the rule', () => {
    expect(cappWarnings(capp({ routeSpec: { tlsEnabled: true } }))).toEqual([
      {
        path: 'spec.routeSpec.tlsEnabled',
        rule: 'tlsWithoutHostname',
        message: 'tlsEnabled has no effect without routeSpec.hostname: no Certificate is issued',
      },
    ]);
    expect(cappSpecWarnings(capp({ routeSpec: { tlsEnabled: true, hostname: '' } })['spec'])).toHaveLength(1);
  });

  it.each<[string, Record<string, unknown>]>([
    ['a minimal Capp', capp()],
    ['TLS with a hostname', capp({ routeSpec: { hostname: 'shop.example.com', tlsEnabled: true } })],
    ['TLS off without a hostname', capp({ routeSpec: { tlsEnabled: false } })],
  ])('has nothing to say about %s', (_title, obj) => {
    expect(cappWarnings(obj)).toEqual([]);
  });

  it('formats warnings as kubectl prints them: "<field path>: <message> (rule <rule>)"', () => {
    expect(formatWarnings(cappWarnings(capp({ routeSpec: { tlsEnabled: true } })))).toEqual([
      'spec.routeSpec.tlsEnabled: tlsEnabled has no effect without routeSpec.hostname: no Certificate is issued (rule tlsWithoutHostname)',
    ]);
  });
});

describe('spec.traits', () => {
  it('accepts a list of {type, properties}, and class-validator agrees', () => {
    const obj = capp({
      traits: [{ type: 'sidecar', properties: { image: 'envoy:1', env: { A: 'b' } } }, { type: 'recreate' }],
    });
    expect(validateCapp(obj)).toEqual([]);
    expect(viaClassValidator(obj)).toEqual([]);
  });

  it('names a trait without a type, or with a type that cannot be a CappTrait', () => {
    const issues = validateCapp(capp({ traits: [{ properties: {} }, { type: 'Not_A_Name' }] }));
    expect(issues.map((i) => `${i.path} ${i.rule}`)).toEqual([
      'spec.traits[0].type required',
      'spec.traits[1].type pattern',
    ]);
  });
});
