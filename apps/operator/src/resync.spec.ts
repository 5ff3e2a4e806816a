import { CAPP_TYPE } from '@capp/kube';

import { ClusterFixture, Obj, waitFor } from './testing/cluster-fixture';

/** "An unchanged Capp costs zero writes": counted at the controller's own client. */
const fx = new ClusterFixture();

beforeAll(async () => {
  await fx.setUp();
  await fx.configMap('dns-config', { zone: 'resync.example.com.', cname: 'ingress.resync.example.com.' });
  await fx.startController();
});

afterAll(async () => {
  await fx.tearDown();
});

const capp = (name: string): Obj => ({
  apiVersion: 'rcs.dana.io/v1alpha1',
  kind: 'Capp',
  metadata: { name, namespace: fx.ns },
  spec: {
    configurationSpec: {
      template: {
        spec: {
          containers: [
            { image: 'ghcr.io/acme/app:1', volumeMounts: [{ name: `${name}-data`, mountPath: '/data' }] },
          ],
        },
      },
    },
    routeSpec: { hostname: name, tlsEnabled: true },
    volumesSpec: {
      nfsVolumes: [{ name: `${name}-data`, server: 'nfs', path: '/d', capacity: { storage: '1Gi' } }],
    },
    logSpec: { type: 'splunk', host: 'splunk', index: 'i', hecTokenSecret: 'hec' },
  },
});

it('makes zero write requests when it re-reconciles converged Capps', async () => {
  const names = ['still-a', 'still-b', 'still-c'];
  for (const n of names) await fx.apply(capp(n));
  for (const n of names) {
    await waitFor(`${n} converged`, async () => {
      const c = await fx.get(CAPP_TYPE, fx.ns, n);
      return c && c.status?.['observedGeneration'] === (c.metadata as { generation?: number }).generation;
    });
  }
  const controller = fx.controller;
  const rest = fx.controllerRest;
  if (!controller || !rest) throw new Error('controller not running');
  // Let the watch events of the controller's own last writes arrive and settle.
  await new Promise((r) => setTimeout(r, 1000));
  await controller.queue.whenIdle();

  const before = { ...rest.counts };
  controller.resync();
  expect(controller.queue.depth + controller.queue.inFlight).toBeGreaterThanOrEqual(names.length);
  await controller.queue.whenIdle();
  expect(rest.counts.writes - before.writes).toBe(0);
  expect(rest.counts.reads - before.reads).toBe(0);
});

it('writes a new Capp’s children, its finalizer, its first CappRevision and its status once each, plus one Event, reading each child once', async () => {
  const rest = fx.controllerRest;
  const controller = fx.controller;
  if (!controller || !rest) throw new Error('controller not running');
  await controller.queue.whenIdle();
  const before = { ...rest.counts };
  await fx.apply(capp('fresh'));
  const converged = await waitFor('fresh converged', async () => {
    const c = await fx.get(CAPP_TYPE, fx.ns, 'fresh');
    return c && c.status?.['observedGeneration'] === (c.metadata as { generation?: number }).generation
      ? c
      : undefined;
  });
  // Let the watch events of the controller's own writes arrive: they must not cause more writes.
  await new Promise((r) => setTimeout(r, 1000));
  await controller.queue.whenIdle();
  const children = (converged.status?.['managedResources'] as unknown[]).length;
  expect(children).toBe(7);
  expect(rest.counts.writes - before.writes).toBe(children + 3 + 1);
  // One GET per new child, which the caches do not hold yet: does it exist already, and whose is it
  // (resource policies' takeOver)?
  expect(rest.counts.reads - before.reads).toBe(children);
});
