import { CAPP_API_VERSION, CAPP_KIND, CAPP_PLURAL } from '@capp/capp-model';
import { CHILD_KINDS } from '@capp/knative-adapter';

/** Where a kind lives in the REST API. Static: the operator touches a fixed set of kinds, no discovery needed. */
export interface ResourceType {
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

export const CAPP_TYPE: ResourceType = {
  apiVersion: CAPP_API_VERSION,
  kind: CAPP_KIND,
  plural: CAPP_PLURAL,
  namespaced: true,
};
export const CONFIGMAP_TYPE: ResourceType = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  namespaced: true,
};
export const SECRET_TYPE: ResourceType = {
  apiVersion: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  namespaced: true,
};
export const EVENT_TYPE: ResourceType = {
  apiVersion: 'v1',
  kind: 'Event',
  plural: 'events',
  namespaced: true,
};
export const LEASE_TYPE: ResourceType = {
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  plural: 'leases',
  namespaced: true,
};

export const CHILD_TYPES: readonly ResourceType[] = CHILD_KINDS.map((k) => ({
  apiVersion: k.apiVersion,
  kind: k.kind,
  plural: k.plural,
  namespaced: !k.clusterScoped,
}));

const ALL = [CAPP_TYPE, CONFIGMAP_TYPE, SECRET_TYPE, EVENT_TYPE, LEASE_TYPE, ...CHILD_TYPES];

export function typeOf(obj: { apiVersion: string; kind: string }): ResourceType {
  const t = ALL.find((r) => r.apiVersion === obj.apiVersion && r.kind === obj.kind);
  if (!t) throw new Error(`unknown resource type ${obj.apiVersion} ${obj.kind}`);
  return t;
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
