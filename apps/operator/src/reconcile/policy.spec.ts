import { ConfigError } from '@capp/knative-adapter';

import { foreignFieldRemovals } from './ownership';
import { expandPath, parsePlatformPolicy, resolvePolicy, withLiveValues } from './policy';

describe('resolvePolicy', () => {
  const ksvc = { kind: 'Service', name: 'web' };
  const cert = { kind: 'Certificate', name: 'web.example.com' };

  it('defaults: onUpdate, applied as rendered, drift corrected, take-over refused', () => {
    const p = resolvePolicy(undefined, undefined);
    expect([p.gc(ksvc), p.applyOnce(ksvc), p.stateKeep, p.takeOver]).toEqual([
      'onUpdate',
      undefined,
      true,
      'refuse',
    ]);
  });

  it("lets the Capp's rules win for what they select, the platform's decide the rest", () => {
    const p = resolvePolicy(
      {
        garbageCollect: {
          rules: [{ selector: { kinds: ['Certificate'], names: ['web.example.com'] }, strategy: 'never' }],
        },
        takeOver: 'refuse',
      },
      {
        garbageCollect: {
          rules: [
            { selector: { kinds: ['Certificate'] }, strategy: 'onCappDelete' },
            { selector: {}, strategy: 'onUpdate' },
          ],
        },
        takeOver: 'adopt',
        stateKeep: false,
      },
    );
    expect(p.gc(cert)).toBe('never');
    expect(p.gc({ kind: 'Certificate', name: 'other.example.com' })).toBe('onCappDelete');
    expect(p.gc(ksvc)).toBe('onUpdate');
    expect(p.takeOver).toBe('refuse');
    expect(p.stateKeep).toBe(false);
  });

  it('applies once at the selected paths, or whole when enabled without rules', () => {
    const rules = {
      enabled: true,
      rules: [{ selector: { kinds: ['Service' as const] }, paths: ['spec.a'] }],
    };
    expect(resolvePolicy({ applyOnce: rules }, undefined).applyOnce(ksvc)).toEqual(['spec.a']);
    expect(resolvePolicy({ applyOnce: rules }, undefined).applyOnce(cert)).toBeUndefined();
    expect(resolvePolicy(undefined, { applyOnce: { enabled: true } }).applyOnce(cert)).toBe('whole');
    expect(
      resolvePolicy({ applyOnce: { enabled: false } }, { applyOnce: { enabled: true } }).applyOnce(cert),
    ).toBeUndefined();
  });
});

describe('apply-once paths', () => {
  const live = {
    spec: {
      containers: [
        { name: 'a', resources: { cpu: '1' } },
        { name: 'b', resources: { cpu: '2' } },
      ],
      replicas: 5,
    },
  };

  it('expands wildcards and indexes against the live object', () => {
    expect(expandPath(live, 'spec.containers[*].resources')).toEqual([
      ['spec', 'containers', 0, 'resources'],
      ['spec', 'containers', 1, 'resources'],
    ]);
    expect(expandPath(live, 'spec.containers[1].name')).toEqual([['spec', 'containers', 1, 'name']]);
    expect(expandPath(live, 'spec.missing')).toEqual([]);
  });

  it('keeps the live values there, and nothing where the render has no such item', () => {
    const desired = { spec: { containers: [{ name: 'a', image: 'new' }], replicas: 1 } };
    expect(withLiveValues(desired, live, ['spec.containers[*].resources', 'spec.replicas'])).toEqual({
      spec: { containers: [{ name: 'a', image: 'new', resources: { cpu: '1' } }], replicas: 5 },
    });
    expect(desired.spec.replicas).toBe(1); // not mutated
  });
});

describe('parsePlatformPolicy (ConfigMap capp-resource-policy)', () => {
  it('reads YAML in the shape of spec.resourcePolicy; absent or empty is no defaults', () => {
    expect(parsePlatformPolicy(undefined)).toBeUndefined();
    expect(parsePlatformPolicy({ data: { policy: ' ' } })).toBeUndefined();
    expect(parsePlatformPolicy({ data: { policy: 'takeOver: adopt\nstateKeep: false\n' } })).toEqual({
      takeOver: 'adopt',
      stateKeep: false,
    });
  });

  it.each([
    ['takeOver: maybe', /policy.takeOver: must be one of "refuse", "adopt"/],
    [
      'garbageCollect: {rules: [{selector: {kinds: [Pod]}, strategy: never}]}',
      /policy.garbageCollect.rules\[0\].selector.kinds\[0\]/,
    ],
    ['applyOnce: {rules: [{selector: {}, paths: ["a..b"]}]}', /must be a field path/],
    ['[1, 2]', /must be a mapping/],
    ['a: [', /not YAML/],
  ])('refuses %j, naming the field', (policy, message) => {
    expect(() => parsePlatformPolicy({ data: { policy } })).toThrow(ConfigError);
    expect(() => parsePlatformPolicy({ data: { policy } })).toThrow(message);
  });
});

describe('foreignFieldRemovals (taking a child over from another manager)', () => {
  const live = {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: {
      name: 'web',
      managedFields: [
        {
          manager: 'manager',
          operation: 'Update',
          fieldsV1: {
            'f:spec': {
              'f:template': {
                'f:spec': {
                  'f:nodeSelector': {},
                  'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:image': {}, 'f:env': {} } },
                },
              },
            },
          },
        },
        {
          manager: 'hpa',
          operation: 'Apply',
          fieldsV1: { 'f:spec': { 'f:template': { 'f:spec': { 'f:nodeSelector': {} } } } },
        },
        {
          manager: 'capp-operator',
          operation: 'Apply',
          fieldsV1: { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': {} } } } },
        },
      ],
    },
    spec: {
      template: { spec: { nodeSelector: { a: 'b' }, containers: [{ name: 'app', image: 'x', env: [] }] } },
    },
  };

  it("removes the spec leaves only an Update-manager set and we do not apply; keeps others' and ours", () => {
    const wanted = {
      ...live,
      metadata: { name: 'web' },
      spec: { template: { spec: { containers: [{ name: 'app', image: 'y' }] } } },
    };
    expect(foreignFieldRemovals(live as never, wanted as never, 'capp-operator')).toEqual([
      { op: 'remove', path: '/spec/template/spec/containers/0/env' },
    ]);
  });
});
