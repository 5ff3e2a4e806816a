import { KubeApiError, KubeClient, KubeRest } from '@capp/kube';

import { testEnvironment } from './environment';
import { KNATIVE_FEATURES, KNATIVE_NAMESPACE, KNATIVE_VALIDATING_WEBHOOK } from './knative-admission';

/** Knative Serving's own admission runs in every test control plane (see knative-admission.ts). */
describe("Knative Serving's admission in the test control plane", () => {
  const env = testEnvironment();
  const ns = 'default';
  const rest = (): KubeRest => KubeRest.fromTarget(env.target);
  const service = (
    name: string,
    container: Record<string, unknown>,
    extra: Record<string, unknown> = {},
  ) => ({
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec: { template: { spec: { containers: [{ image: 'nginx', ...container }], ...extra } } },
  });
  const create = async (body: object): Promise<Record<string, unknown>> =>
    rest().request('POST', `/apis/serving.knative.dev/v1/namespaces/${ns}/services`, {
      body,
      query: { dryRun: 'All' },
    });
  const denial = async (body: object): Promise<string> => {
    const err = await create(body).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KubeApiError);
    return (err as KubeApiError).message;
  };

  it('denies what Serving denies, naming its webhook, the field and the rule', async () => {
    const message = await denial(service('named-port', { ports: [{ name: 'web', containerPort: 8080 }] }));
    expect(message).toContain(KNATIVE_VALIDATING_WEBHOOK);
    expect(message).toContain("Name must be empty, or one of: 'h2c', 'http1'");
    expect(message).toContain('Port name web is not allowed: spec.template.spec.containers[0].ports');
    expect(await denial(service('reserved-env', { env: [{ name: 'K_SERVICE', value: 'x' }] }))).toContain(
      'K_SERVICE',
    );
  });

  it("defaults what Serving defaults, with the writer's name in creator and lastModifier", async () => {
    const created = (await create(service('defaulted', {}))) as {
      metadata: { annotations: Record<string, string> };
      spec: { template: { spec: { timeoutSeconds?: number; containers: { readinessProbe?: unknown }[] } } };
    };
    expect(created.metadata.annotations['serving.knative.dev/creator']).toBe('capp-admin');
    expect(created.metadata.annotations['serving.knative.dev/lastModifier']).toBe('capp-admin');
    expect(created.spec.template.spec.timeoutSeconds).toBe(300);
    expect(created.spec.template.spec.containers[0]?.readinessProbe).toBeDefined();
  });

  it('reads config-features from the cluster as it changes (a gated PodSpec field)', async () => {
    const withNodeSelector = service('node-selector', {}, { nodeSelector: { disk: 'ssd' } });
    expect(await denial(withNodeSelector)).toContain(
      'must not set the field(s): spec.template.spec.nodeSelector',
    );
    const client = new KubeClient(rest(), { fieldManager: 'knative-admission-spec' });
    const features = (data: Record<string, string>) =>
      client.apply({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'config-features', namespace: KNATIVE_NAMESPACE },
        data,
      } as never);
    await features({ ...KNATIVE_FEATURES, 'kubernetes.podspec-nodeselector': 'enabled' });
    try {
      const deadline = Date.now() + 10_000;
      let admitted = false;
      while (!admitted && Date.now() < deadline) {
        admitted = await create(withNodeSelector).then(
          () => true,
          () => false,
        );
        if (!admitted) await new Promise((r) => setTimeout(r, 100));
      }
      expect(admitted).toBe(true);
    } finally {
      await features({ ...KNATIVE_FEATURES });
    }
  });
});
