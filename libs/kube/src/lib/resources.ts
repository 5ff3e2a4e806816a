import {
  CAPP_API_VERSION,
  CAPP_KIND,
  CAPP_PLURAL,
  CAPP_REVISION_KIND,
  CAPP_REVISION_PLURAL,
  CAPP_TRAIT_KIND,
  CAPP_TRAIT_PLURAL,
  HEALTHSCOPE_KIND,
  HEALTHSCOPE_PLURAL,
  type ResourceType,
} from '@capp/capp-model';

const core = (kind: string, plural: string, namespaced = true): ResourceType => ({
  apiVersion: 'v1',
  kind,
  plural,
  namespaced,
});

export const CAPP_TYPE: ResourceType = {
  apiVersion: CAPP_API_VERSION,
  kind: CAPP_KIND,
  plural: CAPP_PLURAL,
  namespaced: true,
};
export const CAPP_REVISION_TYPE: ResourceType = {
  apiVersion: CAPP_API_VERSION,
  kind: CAPP_REVISION_KIND,
  plural: CAPP_REVISION_PLURAL,
  namespaced: true,
};
export const HEALTHSCOPE_TYPE: ResourceType = {
  apiVersion: CAPP_API_VERSION,
  kind: HEALTHSCOPE_KIND,
  plural: HEALTHSCOPE_PLURAL,
  namespaced: true,
};
export const CAPP_TRAIT_TYPE: ResourceType = {
  apiVersion: CAPP_API_VERSION,
  kind: CAPP_TRAIT_KIND,
  plural: CAPP_TRAIT_PLURAL,
  namespaced: false,
};
export const NAMESPACE_TYPE = core('Namespace', 'namespaces', false);
export const CONFIGMAP_TYPE = core('ConfigMap', 'configmaps');
export const SECRET_TYPE = core('Secret', 'secrets');
export const SERVICE_ACCOUNT_TYPE = core('ServiceAccount', 'serviceaccounts');
export const EVENT_TYPE = core('Event', 'events');
export const LEASE_TYPE: ResourceType = {
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  plural: 'leases',
  namespaced: true,
};
export const CRD_TYPE: ResourceType = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  namespaced: false,
};
export const TOKEN_REVIEW_TYPE: ResourceType = {
  apiVersion: 'authentication.k8s.io/v1',
  kind: 'TokenReview',
  plural: 'tokenreviews',
  namespaced: false,
};
export const SUBJECT_ACCESS_REVIEW_TYPE: ResourceType = {
  apiVersion: 'authorization.k8s.io/v1',
  kind: 'SubjectAccessReview',
  plural: 'subjectaccessreviews',
  namespaced: false,
};
export const SELF_SUBJECT_REVIEW_TYPE: ResourceType = {
  apiVersion: 'authentication.k8s.io/v1',
  kind: 'SelfSubjectReview',
  plural: 'selfsubjectreviews',
  namespaced: false,
};

const admissionRegistration = (kind: string, plural: string): ResourceType => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind,
  plural,
  namespaced: false,
});
export const MUTATING_WEBHOOK_CONFIGURATION_TYPE = admissionRegistration(
  'MutatingWebhookConfiguration',
  'mutatingwebhookconfigurations',
);
export const VALIDATING_WEBHOOK_CONFIGURATION_TYPE = admissionRegistration(
  'ValidatingWebhookConfiguration',
  'validatingwebhookconfigurations',
);

/** The kinds every client knows; a client is given the rest (CRDs) when it is made. */
export const BUILTIN_TYPES: readonly ResourceType[] = [
  CAPP_TYPE,
  CAPP_REVISION_TYPE,
  HEALTHSCOPE_TYPE,
  CAPP_TRAIT_TYPE,
  NAMESPACE_TYPE,
  CONFIGMAP_TYPE,
  SECRET_TYPE,
  SERVICE_ACCOUNT_TYPE,
  EVENT_TYPE,
  LEASE_TYPE,
  CRD_TYPE,
  TOKEN_REVIEW_TYPE,
  SUBJECT_ACCESS_REVIEW_TYPE,
  SELF_SUBJECT_REVIEW_TYPE,
  MUTATING_WEBHOOK_CONFIGURATION_TYPE,
  VALIDATING_WEBHOOK_CONFIGURATION_TYPE,
];

/** `apiVersion/kind`: a kind's key across groups. */
export const kindKey = (k: { apiVersion: string; kind: string }): string => `${k.apiVersion}/${k.kind}`;

/** A fixed set of kinds, looked up by an object's `apiVersion` and `kind`. */
export class ResourceTypes {
  private readonly byKind = new Map<string, ResourceType>();

  constructor(types: readonly ResourceType[] = []) {
    for (const t of [...BUILTIN_TYPES, ...types]) this.byKind.set(kindKey(t), t);
  }

  of(obj: { apiVersion: string; kind: string }): ResourceType {
    const t = this.byKind.get(kindKey(obj));
    if (!t) throw new Error(`unknown resource type ${obj.apiVersion} ${obj.kind}`);
    return t;
  }
}

/** REST path of a collection (`namespace` undefined = all namespaces) or, with `name`, of one object. */
export function resourcePath(
  type: ResourceType,
  namespace?: string,
  name?: string,
  subresource?: string,
): string {
  const group = type.apiVersion.includes('/') ? `/apis/${type.apiVersion}` : `/api/${type.apiVersion}`;
  const ns = type.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const one = name ? `/${encodeURIComponent(name)}` : '';
  const sub = name && subresource ? `/${subresource}` : '';
  return `${group}${ns}/${type.plural}${one}${sub}`;
}

/** `namespace/name`, or `name` for a cluster-scoped object: an object's key within its kind. */
export const objectKey = (o: { metadata: { name?: string; namespace?: string } }): string =>
  o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : (o.metadata.name ?? '');

/** `apiVersion/kind/[namespace/]name`: one object across kinds. */
export const objectId = (o: {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; namespace?: string };
}): string => `${o.apiVersion}/${o.kind}/${objectKey(o)}`;
