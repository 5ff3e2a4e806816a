/**
 * Minimal stand-ins for the child CRDs, used only when `../shared/crds/` (the upstream CRDs) is not
 * there. Same group / version / kind / scope / plural as upstream, but the schemas accept anything
 * (`x-kubernetes-preserve-unknown-fields`), so they prove wiring, not schema conformance.
 */

interface FallbackCrd {
  group: string;
  version: string;
  kind: string;
  plural: string;
  scope: 'Namespaced' | 'Cluster';
  shortNames?: string[];
}

export const FALLBACK_CRD_SPECS: readonly FallbackCrd[] = [
  {
    group: 'serving.knative.dev',
    version: 'v1',
    kind: 'Service',
    plural: 'services',
    scope: 'Namespaced',
    shortNames: ['kservice', 'ksvc'],
  },
  {
    group: 'serving.knative.dev',
    version: 'v1beta1',
    kind: 'DomainMapping',
    plural: 'domainmappings',
    scope: 'Namespaced',
    shortNames: ['dm'],
  },
  {
    group: 'cert-manager.io',
    version: 'v1',
    kind: 'Certificate',
    plural: 'certificates',
    scope: 'Namespaced',
    shortNames: ['cert', 'certs'],
  },
  {
    group: 'cert-manager.io',
    version: 'v1',
    kind: 'ClusterIssuer',
    plural: 'clusterissuers',
    scope: 'Cluster',
    shortNames: ['ciss'],
  },
  {
    group: 'cert.dana.io',
    version: 'v1alpha1',
    kind: 'ClusterIssuer',
    plural: 'clusterissuers',
    scope: 'Cluster',
  },
  {
    group: 'record.dns.crossplane.io',
    version: 'v1alpha1',
    kind: 'CNAMERecord',
    plural: 'cnamerecords',
    scope: 'Cluster',
  },
  { group: 'nfspvc.dana.io', version: 'v1alpha1', kind: 'NfsPvc', plural: 'nfspvcs', scope: 'Namespaced' },
  { group: 'logging.banzaicloud.io', version: 'v1beta1', kind: 'Flow', plural: 'flows', scope: 'Namespaced' },
  {
    group: 'logging.banzaicloud.io',
    version: 'v1beta1',
    kind: 'Output',
    plural: 'outputs',
    scope: 'Namespaced',
  },
];

/** The fallback CRD objects (apiextensions.k8s.io/v1). */
export function fallbackCrds(): Record<string, unknown>[] {
  return FALLBACK_CRD_SPECS.map((c) => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${c.plural}.${c.group}`, labels: { 'capp.dana.io/testing-fallback': 'true' } },
    spec: {
      group: c.group,
      scope: c.scope,
      names: {
        kind: c.kind,
        listKind: `${c.kind}List`,
        plural: c.plural,
        singular: c.kind.toLowerCase(),
        ...(c.shortNames ? { shortNames: c.shortNames } : {}),
      },
      versions: [
        {
          name: c.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        },
      ],
    },
  }));
}
