import { KubeObject, ManagedResource, ResourceType } from '@capp/capp-model';

/** A kind a Capp can turn into, as the REST API knows it (what libs/kube's client and informers take). */
export type ChildKind = ResourceType;

export const KNATIVE_SERVICE: ChildKind = {
  apiVersion: 'serving.knative.dev/v1',
  kind: 'Service',
  plural: 'services',
  namespaced: true,
};
export const DOMAIN_MAPPING: ChildKind = {
  apiVersion: 'serving.knative.dev/v1beta1',
  kind: 'DomainMapping',
  plural: 'domainmappings',
  namespaced: true,
};
export const CNAME_RECORD: ChildKind = {
  apiVersion: 'record.dns.crossplane.io/v1alpha1',
  kind: 'CNAMERecord',
  plural: 'cnamerecords',
  namespaced: false,
};
export const CERTIFICATE: ChildKind = {
  apiVersion: 'cert-manager.io/v1',
  kind: 'Certificate',
  plural: 'certificates',
  namespaced: true,
};
export const NFS_PVC: ChildKind = {
  apiVersion: 'nfspvc.dana.io/v1alpha1',
  kind: 'NfsPvc',
  plural: 'nfspvcs',
  namespaced: true,
};
export const LOGGING_OUTPUT: ChildKind = {
  apiVersion: 'logging.banzaicloud.io/v1beta1',
  kind: 'Output',
  plural: 'outputs',
  namespaced: true,
};
export const LOGGING_FLOW: ChildKind = {
  apiVersion: 'logging.banzaicloud.io/v1beta1',
  kind: 'Flow',
  plural: 'flows',
  namespaced: true,
};

/** The logging-operator's syslog-ng kinds: what container-app-operator v0.3.5 writes for `logSpec`. */
export const SYSLOG_NG_OUTPUT: ChildKind = {
  apiVersion: 'logging.banzaicloud.io/v1beta1',
  kind: 'SyslogNGOutput',
  plural: 'syslogngoutputs',
  namespaced: true,
};
export const SYSLOG_NG_FLOW: ChildKind = {
  apiVersion: 'logging.banzaicloud.io/v1beta1',
  kind: 'SyslogNGFlow',
  plural: 'syslogngflows',
  namespaced: true,
};

/**
 * Which logging-operator pipeline ships a Capp's logs: `fluentd` (Flow + Output, the default) or
 * `syslog-ng` (SyslogNGFlow + SyslogNGOutput, as container-app-operator v0.3.5). A platform setting:
 * it follows how the cluster's Logging resource is set up, not the Capp.
 */
export type LoggingBackend = 'fluentd' | 'syslog-ng';
export const LOGGING_BACKENDS: readonly LoggingBackend[] = ['fluentd', 'syslog-ng'];
export const DEFAULT_LOGGING_BACKEND: LoggingBackend = 'fluentd';

/** The logging kinds of each backend, Output first. */
export const LOGGING_KINDS: Readonly<Record<LoggingBackend, readonly ChildKind[]>> = {
  fluentd: [LOGGING_OUTPUT, LOGGING_FLOW],
  'syslog-ng': [SYSLOG_NG_OUTPUT, SYSLOG_NG_FLOW],
};

/**
 * Every kind a Capp can turn into, in apply order (DESIGN §4): ksvc, NfsPvc, the logging Output and
 * Flow (of either backend), Certificate, DomainMapping, DNS record.
 */
export const CHILD_KINDS: readonly ChildKind[] = [
  KNATIVE_SERVICE,
  NFS_PVC,
  ...LOGGING_KINDS.fluentd,
  ...LOGGING_KINDS['syslog-ng'],
  CERTIFICATE,
  DOMAIN_MAPPING,
  CNAME_RECORD,
];

/** The kinds a Capp turns into with this logging backend (the other backend's are only ever pruned). */
export function childKindsFor(backend: LoggingBackend): ChildKind[] {
  const other = LOGGING_BACKENDS.filter((b) => b !== backend).flatMap((b) => LOGGING_KINDS[b]);
  return CHILD_KINDS.filter((k) => !other.includes(k));
}

function sameKind(a: { apiVersion: string; kind: string }, b: { apiVersion: string; kind: string }): boolean {
  return a.apiVersion === b.apiVersion && a.kind === b.kind;
}

/** True when `obj` is of the child kind `kind` (same apiVersion and kind). */
export function isKind(obj: { apiVersion: string; kind: string }, kind: ChildKind): boolean {
  return sameKind(obj, kind);
}

/** True for the children that live outside any namespace (and so carry no ownerReference). */
export function isClusterScoped(obj: { apiVersion: string; kind: string }): boolean {
  return CHILD_KINDS.some((k) => !k.namespaced && sameKind(k, obj));
}

/** `apiVersion/kind/namespace/name` (namespace empty for cluster-scoped objects): the key of the observed map. */
export function childKey(obj: {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}): string {
  return `${obj.apiVersion}/${obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

/** The inventory entry of a child (`status.managedResources[]`). */
export function toManagedResource(obj: KubeObject): ManagedResource {
  const { name, namespace } = obj.metadata;
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    ...(namespace !== undefined ? { namespace } : {}),
    name,
  };
}
