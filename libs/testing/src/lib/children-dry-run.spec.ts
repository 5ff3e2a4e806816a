import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { Capp } from '@capp/capp-model';
import {
  CHILD_KINDS,
  isClusterScoped,
  parseAutoscaleDefaults,
  parseDnsConfig,
  renderChildren,
} from '@capp/knative-adapter';
import { KubeRest } from '@capp/kube';
import { parse } from 'yaml';

import { testEnvironment } from './environment';
import { SHARED_CRDS_DIR } from './paths';

/** Every child rendered from capp-full.yaml must pass the real upstream CRD schemas (and their CEL rules). */
const examples = join(SHARED_CRDS_DIR, '..', 'examples');
const haveUpstream = existsSync(join(examples, 'capp-full.yaml')) && existsSync(SHARED_CRDS_DIR);
if (!haveUpstream)
  console.warn(`notice: ${examples} or ${SHARED_CRDS_DIR} absent; the dry-run proof is skipped`);
const maybe = haveUpstream ? describe : describe.skip;

maybe('children of the full example', () => {
  const env = testEnvironment();
  const read = (file: string): Record<string, unknown> =>
    parse(readFileSync(join(examples, file), 'utf8')) as Record<string, unknown>;
  const capp = read('capp-full.yaml') as unknown as Capp;
  const children = haveUpstream
    ? renderChildren(
        { ...capp, metadata: { ...capp.metadata, uid: '6a1a2f39-0d3e-4f0a-9a53-1b4d2c9e7f10' } },
        {
          autoscale: parseAutoscaleDefaults(
            read('autoscale-defaults.yaml') as { data: Record<string, string> },
          ),
          dns: parseDnsConfig(read('dns-config.yaml') as { data: Record<string, string> }),
        },
        { tlsSecretReady: true },
      )
    : [];

  beforeAll(async () => {
    const ns = capp.metadata.namespace ?? 'default';
    await KubeRest.fromTarget(env.target).raw('POST', '/api/v1/namespaces', {
      body: {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: ns },
      },
    });
  });

  it('renders all seven kinds', () => {
    expect(children.map((c) => c.kind)).toEqual([
      'Service',
      'NfsPvc',
      'Output',
      'Flow',
      'Certificate',
      'DomainMapping',
      'CNAMERecord',
    ]);
  });

  it.each(children.map((c) => [`${c.kind} ${c.metadata.name}`, c] as const))(
    '%s passes a server-side dry-run create with strict field validation',
    async (_title, child) => {
      const [group, version] = child.apiVersion.split('/');
      const ns = isClusterScoped(child) ? '' : `/namespaces/${child.metadata.namespace}`;
      const path = `/apis/${group}/${version}${ns}/${CHILD_KINDS.find((k) => k.kind === child.kind)?.plural}?dryRun=All&fieldValidation=Strict`;
      const res = await KubeRest.fromTarget(env.target).raw('POST', path, { body: child });
      expect({ status: res.status, body: res.status === 201 ? 'created' : res.text }).toEqual({
        status: 201,
        body: 'created',
      });
    },
  );
});
