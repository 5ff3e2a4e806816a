import { Capp, CappSpec, LABEL_MANAGED_BY, LABEL_PARENT_CAPP } from '@capp/capp-model';

import { ConfigError, RenderError } from './errors';
import { renderChildren } from './render';
import { childKey, isClusterScoped, toManagedResource } from './resources';
import { AUTOSCALE, DNS, makeCapp, UID } from './test-fixtures';
import { DesiredChild } from './types';

const config = { autoscale: AUTOSCALE, dns: DNS };
const ids = (children: DesiredChild[]): string[] => children.map((c) => `${c.kind}/${c.metadata.name}`);
const find = (children: DesiredChild[], kind: string): DesiredChild | undefined =>
  children.find((c) => c.kind === kind);

const everything: Partial<CappSpec> = {
  routeSpec: { hostname: 'shop', tlsEnabled: true },
  volumesSpec: {
    nfsVolumes: [
      { name: 'data', server: 'nfs1', path: '/a', capacity: { storage: '1Gi' } },
      { name: 'logs', server: 'nfs2', path: '/b', capacity: { storage: 5 } },
    ],
  },
  logSpec: { type: 'elastic', host: 'es', index: 'main', user: 'elastic', passwordSecret: 'es-pass' },
};

describe('renderChildren', () => {
  it('renders only the Knative Service for a minimal Capp', () => {
    expect(ids(renderChildren(makeCapp(), config))).toEqual(['Service/web']);
  });

  it('renders every child in apply order: ksvc, NfsPvcs, Output, Flow, Certificate, DomainMapping, CNAMERecord', () => {
    expect(ids(renderChildren(makeCapp(everything), config))).toEqual([
      'Service/web',
      'NfsPvc/data',
      'NfsPvc/logs',
      'Output/web-elastic',
      'Flow/web',
      'Certificate/shop.apps.example.com',
      'DomainMapping/shop.apps.example.com',
      'CNAMERecord/shop.apps.example.com',
    ]);
  });

  it('renders a SyslogNGOutput and a SyslogNGFlow instead of Output and Flow with the syslog-ng backend', () => {
    expect(ids(renderChildren(makeCapp(everything), { ...config, loggingBackend: 'syslog-ng' }))).toEqual([
      'Service/web',
      'NfsPvc/data',
      'NfsPvc/logs',
      'SyslogNGOutput/web',
      'SyslogNGFlow/web',
      'Certificate/shop.apps.example.com',
      'DomainMapping/shop.apps.example.com',
      'CNAMERecord/shop.apps.example.com',
    ]);
    expect(ids(renderChildren(makeCapp(everything), { ...config, loggingBackend: 'fluentd' }))).toEqual(
      ids(renderChildren(makeCapp(everything), config)),
    );
  });

  it('keeps every other child but drops the Knative Service when the Capp is disabled', () => {
    expect(ids(renderChildren(makeCapp({ ...everything, state: 'disabled' }), config))).toEqual([
      'NfsPvc/data',
      'NfsPvc/logs',
      'Output/web-elastic',
      'Flow/web',
      'Certificate/shop.apps.example.com',
      'DomainMapping/shop.apps.example.com',
      'CNAMERecord/shop.apps.example.com',
    ]);
  });

  it('labels every child (ours and v0.3.5 keys) and owns every namespaced one; the CNAMERecord carries the namespace instead', () => {
    for (const child of renderChildren(makeCapp(everything), config)) {
      expect(child.metadata.labels).toMatchObject({
        [LABEL_PARENT_CAPP]: 'web',
        [LABEL_MANAGED_BY]: 'capp-operator',
        'rcs.dana.io/managed-by': 'capp',
      });
      if (isClusterScoped(child)) {
        expect(child.kind).toBe('CNAMERecord');
        expect(child.metadata).not.toHaveProperty('namespace');
        expect(child.metadata).not.toHaveProperty('ownerReferences');
        expect(child.metadata.labels).toMatchObject({
          'rcs.dana.io/parent-capp-ns': 'team-a',
          'rcs.dana.io/parent-capp-namespace': 'team-a',
        });
      } else {
        expect(child.metadata.namespace).toBe('team-a');
        expect(child.metadata.ownerReferences).toEqual([
          {
            apiVersion: 'rcs.dana.io/v1alpha1',
            kind: 'Capp',
            name: 'web',
            uid: UID,
            controller: true,
            blockOwnerDeletion: true,
          },
        ]);
      }
    }
  });

  it('omits ownerReferences everywhere when the Capp has no uid', () => {
    const children = renderChildren(makeCapp(everything, { uid: undefined }), config);
    expect(children.filter((c) => c.metadata.ownerReferences !== undefined)).toEqual([]);
  });

  it('gives one NfsPvc per volume and one PVC pod volume per NfsPvc', () => {
    const children = renderChildren(makeCapp(everything), config);
    const pvcs = children.filter((c) => c.kind === 'NfsPvc');
    expect(pvcs.map((p) => p.spec)).toEqual([
      { server: 'nfs1', path: '/a', capacity: { storage: '1Gi' }, accessModes: ['ReadWriteMany'] },
      { server: 'nfs2', path: '/b', capacity: { storage: '5' }, accessModes: ['ReadWriteMany'] },
    ]);
    const template = (find(children, 'Service')?.spec as { template: { spec: { volumes: unknown[] } } })
      .template;
    expect(template.spec.volumes).toEqual(
      pvcs.map((p) => ({ name: p.metadata.name, persistentVolumeClaim: { claimName: p.metadata.name } })),
    );
  });

  it.each([
    ['a short hostname', 'shop', 'shop.apps.example.com', 'shop'],
    ['a hostname in the zone', 'shop.apps.example.com', 'shop.apps.example.com', 'shop'],
    ['a hostname with a trailing dot', 'shop.apps.example.com.', 'shop.apps.example.com', 'shop'],
    ['a hostname outside the zone', 'capp.dev', 'capp.dev.apps.example.com', 'capp.dev'],
  ])('names the route children after the FQDN for %s', (_title, hostname, fqdn, record) => {
    const children = renderChildren(makeCapp({ routeSpec: { hostname } }), config);
    expect(ids(children)).toEqual(['Service/web', `DomainMapping/${fqdn}`, `CNAMERecord/${fqdn}`]);
    expect(find(children, 'CNAMERecord')?.spec).toMatchObject({
      forProvider: { name: record, zone: 'apps.example.com.' },
    });
  });

  it('renders no Certificate and no TLS on the DomainMapping without tlsEnabled', () => {
    const children = renderChildren(makeCapp({ routeSpec: { hostname: 'shop' } }), config, {
      tlsSecretReady: true,
    });
    expect(find(children, 'Certificate')).toBeUndefined();
    expect(find(children, 'DomainMapping')?.spec).not.toHaveProperty('tls');
  });

  it.each([
    [{}, undefined],
    [{ tlsSecretReady: false }, undefined],
    [{ tlsSecretReady: true }, { secretName: 'shop.apps.example.com-tls' }],
  ])('with TLS, sets the DomainMapping tls only once the Secret is ready (%j)', (observed, tls) => {
    const children = renderChildren(
      makeCapp({ routeSpec: { hostname: 'shop', tlsEnabled: true } }),
      config,
      observed,
    );
    expect(find(children, 'Certificate')?.spec).toMatchObject({ secretName: 'shop.apps.example.com-tls' });
    expect(find(children, 'DomainMapping')?.spec?.['tls']).toEqual(tls);
  });

  it('refuses a hostname without dns-config with a ConfigError naming the ConfigMap', () => {
    const render = (): unknown =>
      renderChildren(makeCapp({ routeSpec: { hostname: 'shop' } }), { autoscale: AUTOSCALE });
    expect(render).toThrow(ConfigError);
    expect(render).toThrow(
      'ConfigMap dns-config is required: Capp team-a/web sets routeSpec.hostname "shop"',
    );
  });

  it('does not need dns-config without a hostname', () => {
    expect(ids(renderChildren(makeCapp(), { autoscale: AUTOSCALE }))).toEqual(['Service/web']);
  });

  it('refuses a hostname that is the DNS zone itself', () => {
    expect(() => renderChildren(makeCapp({ routeSpec: { hostname: 'apps.example.com' } }), config)).toThrow(
      RenderError,
    );
  });

  it('refuses a Capp without a name', () => {
    expect(() => renderChildren(makeCapp({ state: 'disabled' }, { name: undefined }), config)).toThrow(
      RenderError,
    );
  });

  it('does not modify the Capp and gives equal output for equal input', () => {
    const capp: Capp = makeCapp({
      ...everything,
      routeSpec: { ...everything.routeSpec, trafficTarget: { latestRevision: true } },
      configurationSpec: {
        template: {
          metadata: { annotations: { 'autoscaling.knative.dev/target': '5' } },
          spec: { containers: [{ image: 'web:1' }], volumes: [{ name: 'tmp', emptyDir: {} }] },
        },
      },
    });
    const before = structuredClone(capp);
    const first = renderChildren(capp, config, { tlsSecretReady: true });
    expect(capp).toEqual(before);
    expect(renderChildren(capp, config, { tlsSecretReady: true })).toEqual(first);

    // The output shares nothing with the input: changing it leaves the Capp alone.
    const template = (
      find(first, 'Service')?.spec as { template: { spec: { volumes: Array<Record<string, unknown>> } } }
    ).template;
    template.spec.volumes[0]['emptyDir'] = { medium: 'Memory' };
    expect(capp).toEqual(before);
  });
});

describe('childKey and toManagedResource', () => {
  it('key namespaced children by apiVersion/kind/namespace/name and cluster-scoped ones with an empty namespace', () => {
    const children = renderChildren(makeCapp({ routeSpec: { hostname: 'shop' } }), config);
    expect(children.map(childKey)).toEqual([
      'serving.knative.dev/v1/Service/team-a/web',
      'serving.knative.dev/v1beta1/DomainMapping/team-a/shop.apps.example.com',
      'record.dns.crossplane.io/v1alpha1/CNAMERecord//shop.apps.example.com',
    ]);
    expect(children.map(toManagedResource)).toEqual([
      { apiVersion: 'serving.knative.dev/v1', kind: 'Service', namespace: 'team-a', name: 'web' },
      {
        apiVersion: 'serving.knative.dev/v1beta1',
        kind: 'DomainMapping',
        namespace: 'team-a',
        name: 'shop.apps.example.com',
      },
      { apiVersion: 'record.dns.crossplane.io/v1alpha1', kind: 'CNAMERecord', name: 'shop.apps.example.com' },
    ]);
  });
});
