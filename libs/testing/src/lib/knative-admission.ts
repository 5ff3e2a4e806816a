/**
 * Knative Serving's own admission in the test control plane: `knative-admission serve`
 * (tools/knative/admission — the SetDefaults and Validate of knative.dev/serving that Serving's webhook
 * calls) on loopback over TLS, registered by URL as Serving registers its webhook, with the features a
 * Capp platform turns on in `knative-serving/config-features` (as helmfile/ configures Serving). From
 * then on every Knative Service, Configuration, Route, Revision and DomainMapping written to the
 * cluster passes the admission it would meet in a real one.
 */

import { type KubeObject, PLATFORM_KNATIVE_FEATURES } from '@capp/capp-model';
import { KubeClient, KubeRest, type KubeTarget } from '@capp/kube';

import { knativeAdmissionBinary } from './binaries';
import { createServingCertificate } from './client-certs';
import { freePort } from './ports';
import type { ProcessGroup } from './process';

export const KNATIVE_NAMESPACE = 'knative-serving';

/** `config-features` of the platform's Serving (helmfile/charts/knative-serving), as capp-model knows it. */
export const KNATIVE_FEATURES: Readonly<Record<string, string>> = PLATFORM_KNATIVE_FEATURES;

/** The names Serving's webhook registers under (what a denial message names). */
export const KNATIVE_DEFAULTING_WEBHOOK = 'webhook.serving.knative.dev';
export const KNATIVE_VALIDATING_WEBHOOK = 'validation.webhook.serving.knative.dev';

const RULES = [
  {
    apiGroups: ['serving.knative.dev'],
    apiVersions: ['v1'],
    operations: ['CREATE', 'UPDATE'],
    resources: ['services', 'configurations', 'routes', 'revisions'],
    scope: 'Namespaced',
  },
  {
    apiGroups: ['serving.knative.dev'],
    apiVersions: ['v1beta1'],
    operations: ['CREATE', 'UPDATE'],
    resources: ['domainmappings'],
    scope: 'Namespaced',
  },
];

export interface KnativeAdmission {
  url: string;
}

/** Starts knative-admission in `group` and registers it; resolves once the apiserver enforces it. */
export async function startKnativeAdmission(
  group: ProcessGroup,
  {
    target,
    kubeconfigPath,
    pkiDir,
    timeoutMs,
  }: { target: KubeTarget; kubeconfigPath: string; pkiDir: string; timeoutMs: number },
): Promise<KnativeAdmission> {
  const [binary, cert, port] = await Promise.all([
    knativeAdmissionBinary(),
    createServingCertificate(pkiDir),
    freePort(),
  ]);
  const url = `https://127.0.0.1:${port}`;
  const rest = KubeRest.fromTarget(target);
  const client = new KubeClient(rest, { fieldManager: 'capp-testing' });
  try {
    const object = (o: Record<string, unknown>): KubeObject => o as unknown as KubeObject;
    await client.apply(
      object({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: KNATIVE_NAMESPACE } }),
    );
    await client.apply(
      object({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'config-features', namespace: KNATIVE_NAMESPACE },
        data: KNATIVE_FEATURES,
      }),
    );
    const proc = group.spawn('knative-admission', binary, [
      'serve',
      `--listen=127.0.0.1:${port}`,
      `--cert=${cert.certFile}`,
      `--key=${cert.keyFile}`,
      `--kubeconfig=${kubeconfigPath}`,
      `--config-namespace=${KNATIVE_NAMESPACE}`,
    ]);
    const webhook = (name: string, path: string): Record<string, unknown> => ({
      name,
      clientConfig: { url: `${url}${path}`, caBundle: cert.caBundle },
      rules: RULES,
      failurePolicy: 'Fail',
      sideEffects: 'None',
      admissionReviewVersions: ['v1'],
      timeoutSeconds: 10,
    });
    await client.apply(
      object({
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'MutatingWebhookConfiguration',
        metadata: { name: KNATIVE_DEFAULTING_WEBHOOK },
        webhooks: [{ ...webhook(KNATIVE_DEFAULTING_WEBHOOK, '/defaulting'), reinvocationPolicy: 'IfNeeded' }],
      }),
    );
    await client.apply(
      object({
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        metadata: { name: KNATIVE_VALIDATING_WEBHOOK },
        webhooks: [webhook(KNATIVE_VALIDATING_WEBHOOK, '/resource-validation')],
      }),
    );
    // Enforced = a dry-run create of a Service without an image is denied by Serving's validation.
    const probe = {
      apiVersion: 'serving.knative.dev/v1',
      kind: 'Service',
      metadata: { name: 'admission-probe', namespace: 'default' },
      spec: { template: { spec: { containers: [{}] } } },
    };
    await group.waitFor(
      'knative-admission enforced by kube-apiserver',
      async () => {
        const res = await rest.raw(
          'POST',
          '/apis/serving.knative.dev/v1/namespaces/default/services?dryRun=All',
          {
            body: probe,
            timeoutMs: 5000,
          },
        );
        return res.status === 400 && res.text.includes(KNATIVE_VALIDATING_WEBHOOK);
      },
      { timeoutMs, intervalMs: 200, watch: [proc] },
    );
    return { url };
  } finally {
    rest.close();
  }
}
