import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parseAllDocuments } from 'yaml';

import { run } from './main';

const repoRoot = join(__dirname, '..', '..', '..');
const examples = join(repoRoot, '..', 'shared', 'examples');
const dir = mkdtempSync(join(tmpdir(), 'capp-cli-'));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const minimal = file(
  'minimal.yaml',
  `apiVersion: rcs.dana.io/v1alpha1
kind: Capp
metadata: {name: hello, namespace: demo, labels: {team: a}}
spec:
  configurationSpec:
    template:
      spec:
        containers: [{name: hello, image: ghcr.io/acme/hello:1}]
`,
);
const withHostname = file(
  'host.yaml',
  `apiVersion: rcs.dana.io/v1alpha1
kind: Capp
metadata: {name: shop, namespace: demo}
spec:
  configurationSpec: {template: {spec: {containers: [{image: shop:1}]}}}
  routeSpec: {hostname: shop, tlsEnabled: true}
`,
);
const dnsConfig = file(
  'dns.yaml',
  `kind: ConfigMap
apiVersion: v1
metadata: {name: dns-config}
data: {zone: "apps.example.com.", cname: "ingress.apps.example.com."}
`,
);

const kindsOf = (stdout: string): string[] =>
  parseAllDocuments(stdout).map((d) => (d.toJS() as { kind: string }).kind);

describe('capp validate', () => {
  it('exits 0 for a valid Capp', async () => {
    expect(await run(['validate', '-f', minimal])).toMatchObject({ code: 0, stderr: '' });
  });

  it('exits 1 and prints each problem as "<field path>: <message>"', async () => {
    const bad = file(
      'bad.yaml',
      `apiVersion: rcs.dana.io/v1alpha1
kind: Capp
metadata: {name: bad}
spec:
  scaleMetric: latency
  configurationSpec: {template: {spec: {containers: [{image: nginx}]}}}
  logSpec: {type: elastic, host: es, index: main, user: elastic}
`,
    );
    const result = await run(['validate', '-f', bad]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      'spec.scaleMetric: must be one of "concurrency", "rps", "cpu", "memory", got "latency"',
      'spec.logSpec.passwordSecret: passwordSecret is required when logSpec.type is "elastic"',
    ]);
  });

  it('exits 0 for a Capp v0.3.5 accepts with a warning (TLS without a hostname), printing the warning', async () => {
    const tlsOnly = file(
      'tls-only.yaml',
      `apiVersion: rcs.dana.io/v1alpha1
kind: Capp
metadata: {name: tls-only}
spec:
  configurationSpec: {template: {spec: {containers: [{image: nginx}]}}}
  routeSpec: {tlsEnabled: true}
`,
    );
    const result = await run(['validate', '-f', tlsOnly]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('valid rcs.dana.io/v1alpha1 Capp "tls-only"');
    expect(result.stderr).toBe(
      'warning: spec.routeSpec.tlsEnabled: tlsEnabled has no effect without routeSpec.hostname: no Certificate is issued (rule tlsWithoutHostname)\n',
    );
    const rendered = await run(['render', '-f', tlsOnly]);
    expect(rendered.code).toBe(0);
    expect(kindsOf(rendered.stdout)).toEqual(['Service']);
    expect(rendered.stderr).toMatch(/^warning: spec\.routeSpec\.tlsEnabled: /);
  });

  it.each([
    ['a missing file', join(dir, 'nope.yaml'), /cannot read file \(ENOENT\)/],
    ['text that is not YAML', file('broken.yaml', 'a: [1, 2\nb: }'), /not valid YAML/],
    ['a YAML scalar', file('scalar.yaml', 'hello'), /expected a Capp object, got a string/],
    [
      'another kind',
      file('cm.yaml', 'kind: ConfigMap\napiVersion: v1\n'),
      /expected kind Capp, got "ConfigMap"/,
    ],
    ['several documents', file('two.yaml', 'kind: Capp\n---\nkind: Capp\n'), /holds 2 YAML documents/],
    ['an empty file', file('empty.yaml', ''), /no YAML document found/],
  ])('answers %s with a one-line error and exit 2', async (_title, path, message) => {
    const result = await run(['validate', '-f', path]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('answers a missing -f or an unknown command with usage and exit 2', async () => {
    expect((await run(['validate'])).code).toBe(2);
    expect((await run(['deploy'])).stderr).toMatch(/unknown command "deploy"/);
    expect((await run(['render', '-f', minimal, '-o', 'xml'])).stderr).toMatch(/-o must be yaml or json/);
  });
});

describe("capp validate with Knative's rules and the cluster's settings", () => {
  const nodeSelector = file(
    'node-selector.yaml',
    `apiVersion: rcs.dana.io/v1alpha1
kind: Capp
metadata: {name: pinned, namespace: demo}
spec:
  configurationSpec:
    template:
      spec:
        nodeSelector: {disk: ssd}
        containers: [{image: ghcr.io/acme/app:1, ports: [{name: web, containerPort: 8080}]}]
`,
  );
  const features = (name: string, data: string): string =>
    file(
      `${name}.yaml`,
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}, namespace: knative-serving}\ndata: {${data}}\n`,
    );

  it('refuses what Knative Serving would refuse, naming the Capp field and the rule', async () => {
    const result = await run(['validate', '-f', nodeSelector]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'spec.configurationSpec.template.spec.nodeSelector: must not set the field(s)',
    );
    expect(result.stderr).toContain(
      "spec.configurationSpec.template.spec.containers[0].ports[0].name: Port name web is not allowed: Name must be empty, or one of: 'h2c', 'http1'",
    );
  });

  it("follows the cluster's ConfigMaps given with --knative-config", async () => {
    const on = features('config-features', 'kubernetes.podspec-nodeselector: enabled');
    const result = await run(['validate', '-f', nodeSelector, '--knative-config', on]);
    expect(result.stderr).not.toContain('nodeSelector');
    expect(result.stderr).toContain('ports[0].name');
  });

  it('refuses a ConfigMap that is not one of Knative’s, or one Serving would refuse, with exit 2', async () => {
    expect(
      await run(['validate', '-f', nodeSelector, '--knative-config', features('config-other', 'a: b')]),
    ).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(
        'a Knative ConfigMap is named config-features, config-defaults, config-autoscaler',
      ),
    });
    const bad = features('config-defaults', "revision-timeout-seconds: '900'");
    expect((await run(['validate', '-f', nodeSelector, '--knative-config', bad])).stderr).toContain(
      'cannot be greater than max-revision-timeout-seconds',
    );
  });
});

describe('capp render', () => {
  it('prints the Knative Service of a minimal Capp as a YAML stream', async () => {
    const result = await run(['render', '-f', minimal]);
    expect(result.code).toBe(0);
    expect(kindsOf(result.stdout)).toEqual(['Service']);
  });

  it('prints a JSON List with -o json', async () => {
    const result = await run(['render', '-f', withHostname, '--dns-config', dnsConfig, '-o', 'json']);
    expect(result.code).toBe(0);
    const list = JSON.parse(result.stdout) as {
      kind: string;
      items: Array<{ kind: string; metadata: { name: string } }>;
    };
    expect(list.kind).toBe('List');
    expect(list.items.map((i) => `${i.kind}/${i.metadata.name}`)).toEqual([
      'Service/shop',
      'Certificate/shop.apps.example.com',
      'DomainMapping/shop.apps.example.com',
      'CNAMERecord/shop.apps.example.com',
    ]);
  });

  it('refuses a hostname without a DNS config, with exit 2', async () => {
    const result = await run(['render', '-f', withHostname]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/dns-config/);
  });

  it('refuses a bad autoscale ConfigMap value, naming the key', async () => {
    const cm = file(
      'as.yaml',
      'kind: ConfigMap\napiVersion: v1\nmetadata: {name: autoscale-defaults}\ndata: {cpu: "lots"}\n',
    );
    const result = await run(['render', '-f', minimal, '--autoscale-defaults', cm]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/"cpu"/);
  });

  it('prints nothing but the problems for an invalid Capp, with exit 1', async () => {
    const bad = file(
      'bad2.yaml',
      'apiVersion: rcs.dana.io/v1alpha1\nkind: Capp\nmetadata: {name: x}\nspec: {}\n',
    );
    expect(await run(['render', '-f', bad])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'spec.configurationSpec: is required\n',
    });
  });
});

describe('capp validate and render --traits DIR', () => {
  const catalogue = join(repoRoot, 'charts', 'capp-platform', 'traits');
  const traited = file(
    'traited.yaml',
    `apiVersion: rcs.dana.io/v1alpha1
kind: Capp
metadata: {name: hello, namespace: demo}
spec:
  configurationSpec: {template: {spec: {containers: [{name: hello, image: hello:1}]}}}
  traits:
    - {type: sidecar, properties: {name: proxy, image: envoy:1}}
    - {type: expose, properties: {port: 5432}}
`,
  );

  it('applies the trait files of DIR to what the Capp renders', async () => {
    const result = await run(['render', '-f', traited, '--traits', catalogue]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const docs = parseAllDocuments(result.stdout).map((d) => d.toJS());
    expect(docs.map((d) => `${d.apiVersion} ${d.kind} ${d.metadata.name}`)).toEqual([
      'serving.knative.dev/v1 Service hello',
      'v1 Service hello-expose',
    ]);
    expect(docs[0].spec.template.spec.containers.map((c: { name: string }) => c.name)).toEqual([
      'hello',
      'proxy',
    ]);
  });

  it('validates the traits against DIR, naming the field', async () => {
    expect(await run(['validate', '-f', traited, '--traits', catalogue])).toMatchObject({
      code: 0,
      stderr: '',
    });
    const bad = file(
      'bad-traits.yaml',
      `apiVersion: rcs.dana.io/v1alpha1
kind: Capp
metadata: {name: hello, namespace: demo}
spec:
  configurationSpec: {template: {spec: {containers: [{name: hello, image: hello:1}]}}}
  traits: [{type: nope}, {type: expose, properties: {port: 0}}]
`,
    );
    const result = await run(['validate', '-f', bad, '--traits', catalogue]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      'spec.traits[0].type: no CappTrait "nope" exists',
      'spec.traits[1].properties.port: must be >= 1',
    ]);
  });

  it('says so when a Capp has traits and no --traits is given', async () => {
    const result = await run(['validate', '-f', traited]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/warning: spec.traits: not checked nor applied without --traits DIR/);
  });

  it('reports a conflict of traits with exit 1', async () => {
    const clash = file(
      'clash.yaml',
      `apiVersion: rcs.dana.io/v1alpha1
kind: Capp
metadata: {name: hello, namespace: demo}
spec:
  configurationSpec: {template: {spec: {containers: [{name: hello, image: hello:1}]}}}
  traits:
    - {type: sidecar, properties: {name: proxy, image: envoy:1}}
    - {type: sidecar, properties: {name: proxy, image: envoy:2}}
`,
    );
    const result = await run(['render', '-f', clash, '--traits', catalogue]);
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toMatch(
      /^error: TraitConflict: Service demo\/hello: spec.template.spec.containers\[name=proxy\].image/,
    );
  });

  it('refuses an invalid trait file, naming file and field', async () => {
    const traitsDir = mkdtempSync(join(tmpdir(), 'capp-traits-'));
    writeFileSync(
      join(traitsDir, 'broken.yaml'),
      'apiVersion: rcs.dana.io/v1alpha1\nkind: CappTrait\nmetadata: {name: broken}\nspec: {patch: {template: "{"}}\n',
    );
    const result = await run(['validate', '-f', traited, '--traits', traitsDir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/broken.yaml: spec.patch.template: /);
  });
});

describe('capp crd', () => {
  it('prints the CustomResourceDefinitions of Capp, CappRevision, HealthScope and CappTrait', async () => {
    const result = await run(['crd']);
    expect(result.code).toBe(0);
    expect(kindsOf(result.stdout)).toEqual([
      'CustomResourceDefinition',
      'CustomResourceDefinition',
      'CustomResourceDefinition',
      'CustomResourceDefinition',
    ]);
    expect(result.stdout).toContain('name: capps.rcs.dana.io');
    expect(result.stdout).toContain('name: capprevisions.rcs.dana.io');
    expect(result.stdout).toContain('name: healthscopes.rcs.dana.io');
    expect(result.stdout).toContain('name: capptraits.rcs.dana.io');
  });
});

const maybe = existsSync(examples) ? describe : describe.skip;
if (!existsSync(examples)) console.warn(`notice: ${examples} absent; the shared examples were not checked`);

maybe('the shared examples', () => {
  const capps = existsSync(examples)
    ? readdirSync(examples).filter((f) =>
        /kind:\s*Capp/.test(require('node:fs').readFileSync(join(examples, f), 'utf8')),
      )
    : [];

  it.each(capps)('%s validates and renders', async (name) => {
    const path = join(examples, name);
    expect(await run(['validate', '-f', path])).toMatchObject({ code: 0 });
    const result = await run([
      'render',
      '-f',
      path,
      '--dns-config',
      join(examples, 'dns-config.yaml'),
      '--autoscale-defaults',
      join(examples, 'autoscale-defaults.yaml'),
    ]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
  });

  it('renders capp-full.yaml into a Service, NfsPvc, Output, Flow, Certificate, DomainMapping and CNAMERecord', async () => {
    const result = await run([
      'render',
      '-f',
      join(examples, 'capp-full.yaml'),
      '--dns-config',
      join(examples, 'dns-config.yaml'),
    ]);
    expect(kindsOf(result.stdout)).toEqual([
      'Service',
      'NfsPvc',
      'Output',
      'Flow',
      'Certificate',
      'DomainMapping',
      'CNAMERecord',
    ]);
  });
});

describe('npm run -s capp', () => {
  it('runs the CLI from the repository root with its exit code', async () => {
    const result = spawnSync('npm', ['run', '-s', 'capp', '--', 'validate', '-f', minimal], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/valid rcs\.dana\.io\/v1alpha1 Capp "hello"/);
    const broken = spawnSync(
      'npm',
      ['run', '-s', 'capp', '--', 'validate', '-f', join(dir, 'missing.yaml')],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    expect(broken.status).toBe(2);
  }, 30_000);
});
