// The admission webhooks registered in the real kube-apiserver, served over HTTPS by CappWebhooks:
// a kubectl-style create of an invalid Capp is refused with the field named, a valid one is
// defaulted and attributed, a duplicate hostname is refused.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { KubeRest } from '@capp/kube';
import { ADMIN_USER, freePort, testEnvironment } from '@capp/testing';
import pino from 'pino';

import { adminRest, suffix } from '../testing/cluster-fixture';
import { CappWebhooks, MUTATE_PATH, VALIDATE_PATH, VALIDATE_TRAIT_PATH } from './webhooks';

/** A throwaway CA and a serving certificate for 127.0.0.1, as cert-manager or the chart would make. */
function certificates(dir: string): string {
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '1',
    '-subj',
    '/CN=capp-webhook-test-ca',
  );
  run(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'tls.key',
    '-out',
    'tls.csr',
    '-subj',
    '/CN=127.0.0.1',
  );
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  run(
    'x509',
    '-req',
    '-in',
    'tls.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'tls.crt',
    '-days',
    '1',
    '-extfile',
    'ext.cnf',
  );
  return readFileSync(join(dir, 'ca.crt')).toString('base64');
}

const capp = (name: string, spec: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'rcs.dana.io/v1alpha1',
  kind: 'Capp',
  metadata: { name },
  spec: { configurationSpec: { template: { spec: { containers: [{ image: 'nginx' }] } } }, ...spec },
});

interface Status {
  code: number;
  message: string;
}

describe('admission webhooks in the real apiserver', () => {
  const { target } = testEnvironment();
  const id = suffix();
  const ns = `webhook-${id}`;
  const name = `capp-webhook-test-${id}`;
  const certDir = mkdtempSync(join(tmpdir(), 'capp-webhook-'));
  const rest = adminRest();
  let webhooks: CappWebhooks;
  const capps = `/apis/rcs.dana.io/v1alpha1/namespaces/${ns}/capps`;

  beforeAll(async () => {
    const caBundle = certificates(certDir);
    const port = await freePort();
    webhooks = new CappWebhooks(rest, { port, certDir, trustedUpdaters: [] }, pino({ level: 'silent' }));
    await webhooks.start();
    // Only this test's namespace is subject to these webhooks (failurePolicy Fail elsewhere would hurt).
    await KubeRest.fromTarget(target).request('POST', '/api/v1/namespaces', {
      body: {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: ns, labels: { 'capp-webhook-test': id } },
      },
    });
    const webhook = (path: string, hook: string): Record<string, unknown> => ({
      name: hook,
      clientConfig: { url: `https://127.0.0.1:${port}${path}`, caBundle },
      rules: [
        {
          apiGroups: ['rcs.dana.io'],
          apiVersions: ['v1alpha1'],
          operations: ['CREATE', 'UPDATE'],
          resources: ['capps'],
          scope: 'Namespaced',
        },
      ],
      namespaceSelector: { matchLabels: { 'capp-webhook-test': id } },
      failurePolicy: 'Fail',
      sideEffects: 'None',
      admissionReviewVersions: ['v1'],
      timeoutSeconds: 10,
    });
    await KubeRest.fromTarget(target).request(
      'POST',
      '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
      {
        body: {
          apiVersion: 'admissionregistration.k8s.io/v1',
          kind: 'MutatingWebhookConfiguration',
          metadata: { name },
          webhooks: [webhook(MUTATE_PATH, 'default.capps.rcs.dana.io')],
        },
      },
    );
    await KubeRest.fromTarget(target).request(
      'POST',
      '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations',
      {
        body: {
          apiVersion: 'admissionregistration.k8s.io/v1',
          kind: 'ValidatingWebhookConfiguration',
          metadata: { name },
          webhooks: [
            webhook(VALIDATE_PATH, 'validate.capps.rcs.dana.io'),
            {
              ...webhook(VALIDATE_TRAIT_PATH, 'validate.capptraits.rcs.dana.io'),
              rules: [
                {
                  apiGroups: ['rcs.dana.io'],
                  apiVersions: ['v1alpha1'],
                  operations: ['CREATE', 'UPDATE', 'DELETE'],
                  resources: ['capptraits'],
                  scope: 'Cluster',
                },
              ],
              // Cluster-scoped: only this test's CappTraits (by label), not those of tests running beside it.
              namespaceSelector: {},
              objectSelector: { matchLabels: { 'capp-webhook-test': id } },
            },
          ],
        },
      },
    );
  }, 60_000);

  afterAll(async () => {
    await KubeRest.fromTarget(target).raw('DELETE', capps);
    for (const kind of ['validatingwebhookconfigurations', 'mutatingwebhookconfigurations'])
      await KubeRest.fromTarget(target).raw(
        'DELETE',
        `/apis/admissionregistration.k8s.io/v1/${kind}/${name}`,
      );
    await webhooks?.stop();
    rest.close();
    rmSync(certDir, { recursive: true, force: true });
  });

  it('refuses a Capp whose log Secret does not exist, naming the field and the rule', async () => {
    const body = capp('logs', {
      logSpec: {
        type: 'elastic',
        host: 'es.example.com',
        index: 'logs',
        user: 'u',
        passwordSecret: 'es-pass',
      },
    });
    // The apiserver picks new webhook configurations up asynchronously: wait until this one applies.
    let res = await KubeRest.fromTarget(target).raw<Status>('POST', capps, { body: body });
    for (let i = 0; res.status !== 422 && i < 50; i++) {
      if (res.status === 201) await KubeRest.fromTarget(target).raw('DELETE', `${capps}/logs`);
      await new Promise((r) => setTimeout(r, 200));
      res = await KubeRest.fromTarget(target).raw<Status>('POST', capps, { body: body });
    }
    expect(res.status).toBe(422);
    expect(res.body.message).toContain('admission webhook "validate.capps.rcs.dana.io" denied the request');
    expect(res.body.message).toContain('spec.logSpec.passwordSecret: Secret "es-pass" not found');
    expect(res.body.message).toContain('rule secretExists');

    await KubeRest.fromTarget(target).request('POST', `/api/v1/namespaces/${ns}/secrets`, {
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'es-pass' },
        stringData: { password: 'x' },
      },
    });
    expect((await KubeRest.fromTarget(target).raw('POST', capps, { body: body })).status).toBe(201);
  });

  it('defaults a valid Capp and records who created it', async () => {
    const created = await KubeRest.fromTarget(target).request<{
      metadata: { annotations: Record<string, string> };
      spec: Record<string, unknown>;
    }>('POST', capps, { body: capp('plain') });
    expect(created.spec).toMatchObject({ scaleMetric: 'concurrency', state: 'enabled' });
    expect(created.metadata.annotations['rcs.dana.io/last-updated-by']).toBe(ADMIN_USER);
  });

  it('refuses a hostname another Capp already uses', async () => {
    await KubeRest.fromTarget(target).request('POST', capps, {
      body: capp('shop', { routeSpec: { hostname: `shop-${id}.example.com` } }),
    });
    // The webhook's cache sees the first Capp through its watch.
    let res = await KubeRest.fromTarget(target).raw<Status>('POST', capps, {
      body: capp('shop-copy', { routeSpec: { hostname: `shop-${id}.example.com` } }),
    });
    for (let i = 0; res.status === 201 && i < 20; i++) {
      await KubeRest.fromTarget(target).raw('DELETE', `${capps}/shop-copy`);
      await new Promise((r) => setTimeout(r, 200));
      res = await KubeRest.fromTarget(target).raw<Status>('POST', capps, {
        body: capp('shop-copy', { routeSpec: { hostname: `shop-${id}.example.com` } }),
      });
    }
    expect(res.status).toBe(422);
    expect(res.body.message).toContain(
      `spec.routeSpec.hostname: "shop-${id}.example.com" is already used by capp ${ns}/shop`,
    );
  });

  it('still lets a Capp be updated and deleted after its Secret is gone', async () => {
    await KubeRest.fromTarget(target).raw('DELETE', `/api/v1/namespaces/${ns}/secrets/es-pass`);
    const patched = await KubeRest.fromTarget(target).raw('PATCH', `${capps}/logs`, {
      body: { metadata: { labels: { touched: 'yes' } } },
      contentType: 'application/merge-patch+json',
    });
    expect(patched.status).toBe(200);
    expect((await KubeRest.fromTarget(target).raw('DELETE', `${capps}/logs`)).status).toBe(200);
  });

  const traitName = `webhook-sidecar-${id}`;
  const traits = '/apis/rcs.dana.io/v1alpha1/capptraits';

  it('refuses a Capp naming an unknown trait or bad properties, naming the field', async () => {
    await KubeRest.fromTarget(target).request('POST', traits, {
      body: {
        apiVersion: 'rcs.dana.io/v1alpha1',
        kind: 'CappTrait',
        metadata: { name: traitName, labels: { 'capp-webhook-test': id } },
        spec: {
          parameters: { type: 'object', required: ['image'], properties: { image: { type: 'string' } } },
          patch: {
            template:
              '{"spec": {"template": {"spec": {"containers": [{"name": "s", "image": parameter.image}]}}}}',
          },
        },
      },
    });
    const unknown = await KubeRest.fromTarget(target).raw<Status>('POST', capps, {
      body: capp('traited', { traits: [{ type: `nope-${id}` }] }),
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body.message).toContain(
      `spec.traits[0].type: no CappTrait "nope-${id}" exists (rule traitExists)`,
    );
    // The webhook's CappTrait cache sees the new trait through its watch.
    let bad = await KubeRest.fromTarget(target).raw<Status>('POST', capps, {
      body: capp('traited', { traits: [{ type: traitName, properties: { image: 1 } }] }),
    });
    for (let i = 0; bad.body.message?.includes('traitExists') && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      bad = await KubeRest.fromTarget(target).raw<Status>('POST', capps, {
        body: capp('traited', { traits: [{ type: traitName, properties: { image: 1 } }] }),
      });
    }
    expect(bad.status).toBe(422);
    expect(bad.body.message).toContain(
      'spec.traits[0].properties.image: must be string (rule parameters.type)',
    );
    const good = await KubeRest.fromTarget(target).raw<Status>('POST', capps, {
      body: capp('traited', { traits: [{ type: traitName, properties: { image: 'envoy:1' } }] }),
    });
    expect(good.status).toBe(201);
  });

  it('refuses to delete a CappTrait a Capp uses, listing the users, and deletes it once unused', async () => {
    let res = await KubeRest.fromTarget(target).raw<Status>('DELETE', `${traits}/${traitName}`);
    for (let i = 0; res.status !== 409 && res.status !== 403 && i < 20; i++) {
      await new Promise((r) => setTimeout(r, 100));
      res = await KubeRest.fromTarget(target).raw<Status>('DELETE', `${traits}/${traitName}`);
    }
    expect(res.body.message).toContain(`CappTrait "${traitName}" is in use by 1 Capp(s): ${ns}/traited`);
    await KubeRest.fromTarget(target).raw('DELETE', `${capps}/traited`);
    let gone = await KubeRest.fromTarget(target).raw<Status>('DELETE', `${traits}/${traitName}`);
    for (let i = 0; gone.status !== 200 && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      gone = await KubeRest.fromTarget(target).raw<Status>('DELETE', `${traits}/${traitName}`);
    }
    expect(gone.status).toBe(200);
  });
});
