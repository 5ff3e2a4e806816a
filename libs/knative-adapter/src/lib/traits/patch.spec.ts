import { jsonMergePatch, jsonPatch, Ledger, PatchError, strategicMerge } from './patch';

const KSVC = { apiVersion: 'serving.knative.dev/v1', kind: 'Service' };
const CORE_SVC = { apiVersion: 'v1', kind: 'Service' };

function pod(spec: Record<string, unknown>): Record<string, unknown> {
  return { spec: { template: { spec } } };
}

describe('strategic merge', () => {
  it('keeps values the patch does not name and merges objects deeply', () => {
    const ledger = new Ledger();
    const out = strategicMerge({ a: { b: 1, c: 2 } }, { a: { d: 3 } }, KSVC, ledger, 'trait "t"');
    expect(out).toEqual({ a: { b: 1, c: 2, d: 3 } });
    expect(ledger.conflicts).toEqual([]);
  });

  it("merges volumeMounts by mountPath and ports by containerPort, a core Service's ports by port", () => {
    const doc = pod({
      containers: [
        { name: 'a', volumeMounts: [{ name: 'x', mountPath: '/x' }], ports: [{ containerPort: 8080 }] },
      ],
    });
    const out = strategicMerge(
      doc,
      pod({
        containers: [
          {
            name: 'a',
            volumeMounts: [{ name: 'x', mountPath: '/x', readOnly: true }],
            ports: [{ containerPort: 8080, name: 'http1' }],
          },
        ],
      }),
      KSVC,
      new Ledger(),
      't',
    );
    expect(out).toEqual(
      pod({
        containers: [
          {
            name: 'a',
            volumeMounts: [{ name: 'x', mountPath: '/x', readOnly: true }],
            ports: [{ containerPort: 8080, name: 'http1' }],
          },
        ],
      }),
    );
    const svc = strategicMerge(
      { spec: { ports: [{ port: 80, targetPort: 8080 }] } },
      { spec: { ports: [{ port: 80, name: 'http' }, { port: 81 }] } },
      CORE_SVC,
      new Ledger(),
      't',
    );
    expect(svc).toEqual({ spec: { ports: [{ port: 80, targetPort: 8080, name: 'http' }, { port: 81 }] } });
  });

  it('merges a list without a Kubernetes merge key by $patchKey', () => {
    const doc = {
      spec: {
        hosts: [
          { host: 'a', weight: 1 },
          { host: 'b', weight: 1 },
        ],
      },
    };
    const out = strategicMerge(
      doc,
      { spec: { hosts: [{ $patchKey: 'host', host: 'b', weight: 5 }, { host: 'c' }] } },
      KSVC,
      new Ledger(),
      't',
    );
    expect(out).toEqual({
      spec: { hosts: [{ host: 'a', weight: 1 }, { host: 'b', weight: 5 }, { host: 'c' }] },
    });
  });

  it('replaces a list without merge key whole (atomic, as Kubernetes does), a different one being a conflict', () => {
    const ledger = new Ledger();
    const out = strategicMerge(
      pod({ containers: [{ name: 'a', args: ['x'] }] }),
      pod({ containers: [{ name: 'a', args: ['y', 'z'] }] }),
      KSVC,
      ledger,
      'trait "t"',
    );
    expect(out).toEqual(pod({ containers: [{ name: 'a', args: ['y', 'z'] }] }));
    expect(ledger.conflicts).toEqual([
      { path: 'spec.template.spec.containers[name=a].args', first: 'the Capp', second: 'trait "t"' },
    ]);
  });

  it('$retainKeys drops the old volume source (Kubernetes retainKeys on a volume)', () => {
    const doc = pod({
      volumes: [
        { name: 'data', persistentVolumeClaim: { claimName: 'old' } },
        { name: 'keep', emptyDir: {} },
      ],
    });
    const ledger = new Ledger();
    const out = strategicMerge(
      doc,
      pod({ volumes: [{ $retainKeys: ['name', 'emptyDir'], name: 'data', emptyDir: { medium: 'Memory' } }] }),
      KSVC,
      ledger,
      't',
    );
    expect(out).toEqual(
      pod({
        volumes: [
          { name: 'data', emptyDir: { medium: 'Memory' } },
          { name: 'keep', emptyDir: {} },
        ],
      }),
    );
    expect(ledger.conflicts).toEqual([]);
  });

  it('$retainKeys drops the old strategy fields of a Deployment-like object', () => {
    const out = strategicMerge(
      { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } },
      { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
      KSVC,
      new Ledger(),
      't',
    );
    expect(out).toEqual({ spec: { strategy: { type: 'Recreate' } } });
  });

  it('$retainKeys must name what the patch sets', () => {
    expect(() => strategicMerge({}, { a: { $retainKeys: ['b'], c: 1 } }, KSVC, new Ledger(), 't')).toThrow(
      PatchError,
    );
  });

  it('$patch: replace puts the object in place, explicitly (no conflict)', () => {
    const ledger = new Ledger();
    const out = strategicMerge(
      pod({ containers: [{ name: 'a', resources: { limits: { cpu: '1', memory: '1Gi' } } }] }),
      pod({ containers: [{ name: 'a', resources: { $patch: 'replace', limits: { cpu: '2' } } }] }),
      KSVC,
      ledger,
      't',
    );
    expect(out).toEqual(pod({ containers: [{ name: 'a', resources: { limits: { cpu: '2' } } }] }));
    expect(ledger.conflicts).toEqual([]);
  });

  it('$patch: replace in a list replaces the whole list', () => {
    const out = strategicMerge(
      pod({ volumes: [{ name: 'a' }, { name: 'b' }] }),
      pod({ volumes: [{ $patch: 'replace' }, { name: 'c' }] }),
      KSVC,
      new Ledger(),
      't',
    );
    expect(out).toEqual(pod({ volumes: [{ name: 'c' }] }));
  });

  it('$patch: delete removes an element found by its key, and null removes a field', () => {
    const out = strategicMerge(
      pod({
        containers: [
          {
            name: 'a',
            env: [
              { name: 'X', value: '1' },
              { name: 'Y', value: '2' },
            ],
          },
        ],
        hostname: 'h',
      }),
      pod({ containers: [{ name: 'a', env: [{ name: 'X', $patch: 'delete' }] }], hostname: null }),
      KSVC,
      new Ledger(),
      't',
    );
    expect(out).toEqual(pod({ containers: [{ name: 'a', env: [{ name: 'Y', value: '2' }] }] }));
  });

  it('an item of a keyed list without its key is an error naming the list', () => {
    expect(() =>
      strategicMerge(pod({ containers: [] }), pod({ containers: [{ image: 'x' }] }), KSVC, new Ledger(), 't'),
    ).toThrow('spec.template.spec.containers: a list item has no "name", the key this list merges by');
  });

  it('reports every conflict with its path and both sources, and setting the same value is none', () => {
    const ledger = new Ledger();
    const doc = strategicMerge(
      { metadata: { labels: { a: '1' } } },
      { metadata: { labels: { a: '1', b: '2' } } },
      KSVC,
      ledger,
      'trait "one"',
    );
    strategicMerge(doc, { metadata: { labels: { a: '9', b: '3' } } }, KSVC, ledger, 'trait "two"');
    expect(ledger.conflicts).toEqual([
      { path: 'metadata.labels.a', first: 'the Capp', second: 'trait "two"' },
      { path: 'metadata.labels.b', first: 'trait "one"', second: 'trait "two"' },
    ]);
  });

  it('does not modify its inputs', () => {
    const doc = pod({ containers: [{ name: 'a', env: [{ name: 'X', value: '1' }] }] });
    const patch = pod({ containers: [{ name: 'a', env: [{ name: 'Y', value: '2' }] }] });
    const before = JSON.stringify([doc, patch]);
    strategicMerge(doc, patch, KSVC, new Ledger(), 't');
    expect(JSON.stringify([doc, patch])).toBe(before);
  });
});

describe('JSON merge patch (RFC 7386)', () => {
  it('merges objects, replaces lists, deletes with null', () => {
    const ledger = new Ledger();
    const out = jsonMergePatch(
      pod({ containers: [{ name: 'a' }], hostname: 'h', dnsPolicy: 'x' }),
      pod({ containers: [{ name: 'b' }], hostname: null, subdomain: 's' }),
      ledger,
      'trait "m"',
    );
    expect(out).toEqual(pod({ containers: [{ name: 'b' }], dnsPolicy: 'x', subdomain: 's' }));
    expect(ledger.conflicts).toEqual([
      { path: 'spec.template.spec.containers', first: 'the Capp', second: 'trait "m"' },
    ]);
  });
});

describe('JSON patch (RFC 6902)', () => {
  const doc = pod({ containers: [{ name: 'web', image: 'a:1', args: ['x'] }] });

  it('adds, replaces, removes, copies, moves and tests', () => {
    const ledger = new Ledger();
    const out = jsonPatch(
      doc,
      [
        { op: 'test', path: '/spec/template/spec/containers/0/name', value: 'web' },
        { op: 'add', path: '/spec/template/spec/containers/-', value: { name: 'side', image: 's:1' } },
        { op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'a:2' },
        { op: 'add', path: '/spec/template/spec/containers/0/args/0', value: 'first' },
        { op: 'copy', from: '/spec/template/spec/containers/0/image', path: '/metadata' },
        { op: 'move', from: '/metadata', path: '/spec/template/spec/containers/1/command' },
        { op: 'remove', path: '/spec/template/spec/containers/1/image' },
      ],
      ledger,
      'trait "j"',
    );
    expect(out).toEqual(
      pod({
        containers: [
          { name: 'web', image: 'a:2', args: ['first', 'x'] },
          { name: 'side', command: 'a:2' },
        ],
      }),
    );
    expect(ledger.conflicts).toEqual([]);
    expect(doc).toEqual(pod({ containers: [{ name: 'web', image: 'a:1', args: ['x'] }] }));
  });

  it('an add over a value the Capp set is a conflict, named by element name', () => {
    const ledger = new Ledger();
    jsonPatch(
      doc,
      [{ op: 'add', path: '/spec/template/spec/containers/0/image', value: 'b:1' }],
      ledger,
      'trait "j"',
    );
    expect(ledger.conflicts).toEqual([
      { path: 'spec.template.spec.containers[name=web].image', first: 'the Capp', second: 'trait "j"' },
    ]);
  });

  it('a failed test stops the patch with the path', () => {
    expect(() =>
      jsonPatch(
        doc,
        [{ op: 'test', path: '/spec/template/spec/containers/0/image', value: 'zzz' }],
        new Ledger(),
        't',
      ),
    ).toThrow('spec.template.spec.containers[name=web].image: test failed: the value differs');
  });
});
