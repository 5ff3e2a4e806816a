import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { CAPP_API_VERSION, type CappTrait, LABEL_PARENT_CAPP } from '@capp/capp-model';
import { CORE_SERVICE, KNATIVE_SERVICE } from '@capp/knative-adapter';
import { CAPP_TRAIT_TYPE, CAPP_TYPE } from '@capp/kube';

import { ClusterFixture, Obj, suffix, waitFor } from './testing/cluster-fixture';

/**
 * Patch traits on a real API server: CappTraits are cluster-scoped, so this test's are named (and its
 * auto-apply label keyed) with a suffix of its own.
 */
const fx = new ClusterFixture();
const id = suffix();
const SIDECAR = `it-sidecar-${id}`;
const EXPOSE = `it-expose-${id}`;
const MESH = `it-mesh-${id}`;
const MESH_LABEL = `mesh-${id}`;
const IDENTITY = `it-identity-${id}`;
const GONE = `it-gone-${id}`;
/** A local identity service for processing.http: GET /sa?team=<team> → {"name": "<team>-sa"}; 503 for team "down". */
let identity: Server;
let identityHost = '';
const other = `capp-it-other-${id}`;

function trait(name: string, spec: CappTrait['spec']): Obj {
  return { apiVersion: CAPP_API_VERSION, kind: 'CappTrait', metadata: { name }, spec } as unknown as Obj;
}

const sidecar = (image: string): Obj =>
  trait(SIDECAR, {
    podDisruptive: true,
    parameters: {
      type: 'object',
      properties: { name: { type: 'string', default: 'proxy' }, image: { type: 'string', default: image } },
    },
    patch: {
      template:
        '{"spec": {"template": {"spec": {"containers": [{"name": parameter.name, "image": parameter.image}]}}}}',
    },
  });

/** The app container declares its port: with a sidecar, Knative needs to know which one serves. */
function capp(name: string, traits: unknown[], namespace = fx.ns): Obj {
  return {
    apiVersion: CAPP_API_VERSION,
    kind: 'Capp',
    metadata: { name, namespace },
    spec: {
      configurationSpec: {
        template: {
          spec: {
            containers: [{ name: 'app', image: 'ghcr.io/acme/app:1', ports: [{ containerPort: 8080 }] }],
          },
        },
      },
      traits,
    },
  };
}

async function containers(name: string, namespace = fx.ns): Promise<string[]> {
  const ksvc = await fx.get(KNATIVE_SERVICE, namespace, name);
  const spec = ksvc?.spec as
    { template: { spec: { containers: Array<{ name: string; image: string }> } } } | undefined;
  return (spec?.template.spec.containers ?? []).map((c) => `${c.name}=${c.image}`);
}

async function waitContainers(name: string, want: string[], namespace = fx.ns): Promise<void> {
  await waitFor(`${namespace}/${name} containers ${want.join(',')}`, async () => {
    return JSON.stringify(await containers(name, namespace)) === JSON.stringify(want);
  });
}

beforeAll(async () => {
  identity = createServer((req, res) => {
    const team = new URL(req.url ?? '/', 'http://x').searchParams.get('team');
    res.writeHead(team === 'down' ? 503 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ name: `${team}-sa` }));
  });
  await new Promise<void>((resolve) => identity.listen(0, '127.0.0.1', resolve));
  identityHost = `127.0.0.1:${(identity.address() as AddressInfo).port}`;
  await fx.setUp();
  await fx.rest.request('POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: other } },
  });
  await fx.apply(sidecar('envoy:1'));
  await fx.apply(
    trait(EXPOSE, {
      outputs: [
        {
          name: 'expose',
          template:
            '{"apiVersion": "v1", "kind": "Service", "spec": {"selector": {"serving.knative.dev/service": context.name}, "ports": [{"port": 5432, "targetPort": 8080}]}}',
        },
      ],
    }),
  );
  await fx.apply(
    trait(IDENTITY, {
      parameters: { type: 'object', properties: { team: { type: 'string' } } },
      processing: {
        http: { url: `"http://${identityHost}/sa?team=" & parameter.team`, ttlSeconds: 0, timeoutSeconds: 2 },
      },
      patch: { template: '{"spec": {"template": {"spec": {"serviceAccountName": processing.output.name}}}}' },
    }),
  );
  await fx.apply(trait(GONE, { patch: { template: '{"metadata": {"labels": {"gone": "no"}}}' } }));
  await fx.startController({ namespaces: [fx.ns, other], traitHttpAllowedHosts: [identityHost] });
});

afterAll(async () => {
  // The other namespace's Capps first, while the controller still runs (their finalizer).
  const others = `/apis/rcs.dana.io/v1alpha1/namespaces/${other}/capps`;
  await fx.rest.request('DELETE', others).catch(() => undefined);
  await waitFor('the other Capps finalized', async () => {
    const list = await fx.rest.request<{ items: unknown[] }>('GET', others);
    return list.items.length === 0;
  }).catch(() => undefined);
  await fx.rest.request('DELETE', `/api/v1/namespaces/${other}`).catch(() => undefined);
  for (const name of [SIDECAR, EXPOSE, MESH, IDENTITY, GONE])
    await fx.remove(CAPP_TRAIT_TYPE, undefined, name).catch(() => undefined);
  identity?.closeAllConnections();
  await new Promise((resolve) => identity?.close(resolve));
  await fx.tearDown();
});

describe('patch traits on a real API server', () => {
  it('converges a Capp with traits: the patched Knative Service, the output Service, status.traits', async () => {
    await fx.apply(capp('web', [{ type: SIDECAR }, { type: EXPOSE }]));
    await waitContainers('web', ['app=ghcr.io/acme/app:1', 'proxy=envoy:1']);
    const svc = await waitFor('the output Service', () => fx.get(CORE_SERVICE, fx.ns, 'web-expose'));
    expect(svc.metadata.labels?.[LABEL_PARENT_CAPP]).toBe('web');
    expect(svc.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Capp', name: 'web' });
    const status = await waitFor('status.traits', async () => {
      const c = await fx.get(CAPP_TYPE, fx.ns, 'web');
      return (c?.status as { traits?: unknown[] } | undefined)?.traits?.length === 2 ? c?.status : undefined;
    });
    expect(status).toMatchObject({
      traits: [{ type: SIDECAR, podDisruptive: true }, { type: EXPOSE }],
      managedResources: expect.arrayContaining([
        expect.objectContaining({ apiVersion: 'v1', kind: 'Service', namespace: fx.ns, name: 'web-expose' }),
      ]),
    });
  });

  it('re-renders the users of a trait that is edited', async () => {
    await fx.apply(capp('edited', [{ type: SIDECAR }]));
    await waitContainers('edited', ['app=ghcr.io/acme/app:1', 'proxy=envoy:1']);
    await fx.apply(sidecar('envoy:2'));
    await waitContainers('edited', ['app=ghcr.io/acme/app:1', 'proxy=envoy:2']);
    await fx.apply(sidecar('envoy:1'));
  });

  it('removes what a trait added (server-side apply ownership) and its outputs when the Capp drops it', async () => {
    await fx.apply(capp('dropped', [{ type: SIDECAR }, { type: EXPOSE }]));
    await waitContainers('dropped', ['app=ghcr.io/acme/app:1', 'proxy=envoy:1']);
    await waitFor('the output Service', () => fx.get(CORE_SERVICE, fx.ns, 'dropped-expose'));
    await fx.apply(capp('dropped', []));
    await waitContainers('dropped', ['app=ghcr.io/acme/app:1']);
    await waitFor(
      'the output Service deleted',
      async () => !(await fx.get(CORE_SERVICE, fx.ns, 'dropped-expose')),
    );
  });

  it('auto-applies a trait to Capps in namespaces with the label, and not elsewhere', async () => {
    await fx.apply(capp('plain', [], fx.ns));
    await fx.apply(capp('meshed', [], other));
    await waitContainers('plain', ['app=ghcr.io/acme/app:1']);
    await waitContainers('meshed', ['app=ghcr.io/acme/app:1'], other);
    await fx.apply(
      trait(MESH, {
        parameters: { type: 'object', properties: { image: { type: 'string' } } },
        patch: {
          template:
            '{"spec": {"template": {"spec": {"containers": [{"name": "mesh", "image": parameter.image}]}}}}',
        },
        autoApply: {
          namespaceSelector: { matchLabels: { [MESH_LABEL]: 'on' } },
          properties: { image: 'mesh:1' },
        },
      }),
    );
    await fx.rest.request('PATCH', `/api/v1/namespaces/${other}`, {
      body: { metadata: { labels: { [MESH_LABEL]: 'on' } } },
      contentType: 'application/merge-patch+json',
    });
    await waitContainers('meshed', ['app=ghcr.io/acme/app:1', 'mesh=mesh:1'], other);
    expect(await containers('plain')).toEqual(['app=ghcr.io/acme/app:1']);
  });

  it('reports conflicting traits in Ready=False with the path and both sources, and writes nothing', async () => {
    await fx.apply(capp('clash', [{ type: SIDECAR, properties: { image: 'proxy-a:1' } }]));
    await waitContainers('clash', ['app=ghcr.io/acme/app:1', 'proxy=proxy-a:1']);
    await fx.apply(
      capp('clash', [
        { type: SIDECAR, properties: { image: 'proxy-a:1' } },
        { type: SIDECAR, properties: { image: 'proxy-b:1' } },
      ]),
    );
    const ready = await waitFor('Ready=False TraitConflict', async () => {
      const c = await fx.get(CAPP_TYPE, fx.ns, 'clash');
      const conditions = (
        c?.status as { conditions?: Array<{ type: string; reason: string; message: string }> }
      )?.conditions;
      return conditions?.find((x) => x.type === 'Ready' && x.reason === 'TraitConflict');
    });
    expect(ready.message).toContain('spec.template.spec.containers[name=proxy].image is set by trait');
    expect(await containers('clash')).toEqual(['app=ghcr.io/acme/app:1', 'proxy=proxy-a:1']);
  });

  async function readyOf(
    name: string,
  ): Promise<{ status: string; reason: string; message: string } | undefined> {
    const c = await fx.get(CAPP_TYPE, fx.ns, name);
    const conditions = (
      c?.status as { conditions?: Array<{ type: string; status: string; reason: string; message: string }> }
    )?.conditions;
    return conditions?.find((x) => x.type === 'Ready');
  }

  it('fetches processing.http from an allowed host and patches with the answer; a failure is Ready=False', async () => {
    await fx.apply(capp('identified', [{ type: IDENTITY, properties: { team: 'pay' } }]));
    await waitFor('serviceAccountName from the identity service', async () => {
      const ksvc = await fx.get(KNATIVE_SERVICE, fx.ns, 'identified');
      return (
        (ksvc?.spec as { template?: { spec?: Record<string, unknown> } })?.template?.spec?.[
          'serviceAccountName'
        ] === 'pay-sa'
      );
    });
    await fx.apply(capp('identified', [{ type: IDENTITY, properties: { team: 'down' } }]));
    const ready = await waitFor('Ready=False TraitProcessingFailed', async () => {
      const r = await readyOf('identified');
      return r?.reason === 'TraitProcessingFailed' ? r : undefined;
    });
    expect(ready.message).toBe(
      `trait "${IDENTITY}": processing.http: GET http://${identityHost}/sa answered 503`,
    );
  });

  it('reports Ready=False TraitNotFound on the Capps of a trait deleted while in use (no webhook here)', async () => {
    await fx.apply(capp('orphaned', [{ type: GONE }]));
    await waitFor(
      'the trait applied',
      async () => (await fx.get(KNATIVE_SERVICE, fx.ns, 'orphaned'))?.metadata.labels?.['gone'] === 'no',
    );
    await fx.remove(CAPP_TRAIT_TYPE, undefined, GONE);
    const ready = await waitFor('Ready=False TraitNotFound', async () => {
      const r = await readyOf('orphaned');
      return r?.reason === 'TraitNotFound' ? r : undefined;
    });
    expect(ready).toMatchObject({ status: 'False', message: `no CappTrait "${GONE}" exists` });
  });

  it("restores a trait's output edited by hand, and deletes it with its Capp (finalizer)", async () => {
    await fx.apply(capp('kept', [{ type: EXPOSE }]));
    await waitFor('the output Service', () => fx.get(CORE_SERVICE, fx.ns, 'kept-expose'));
    await fx.apply(
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'kept-expose', namespace: fx.ns },
        spec: { ports: [{ port: 5432, targetPort: 9999 }] },
      },
      undefined,
      'someone-else',
    );
    await fx.controller?.resync();
    await waitFor('the output restored', async () => {
      const svc = await fx.get(CORE_SERVICE, fx.ns, 'kept-expose');
      const ports = (svc?.spec as { ports?: Array<{ port: number; targetPort: number }> })?.ports ?? [];
      return ports.length === 1 && ports[0].targetPort === 8080;
    });
    await fx.remove(CAPP_TYPE, fx.ns, 'kept');
    await waitFor(
      'the output deleted with the Capp',
      async () => !(await fx.get(CORE_SERVICE, fx.ns, 'kept-expose')),
    );
    await waitFor('the Capp gone', async () => !(await fx.get(CAPP_TYPE, fx.ns, 'kept')));
  });
});
