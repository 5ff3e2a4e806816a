import {
  Capp,
  CAPP_ANNOTATION_PREFIX,
  CAPP_API_VERSION,
  CAPP_KIND,
  KubeObject,
  LABEL_MANAGED_BY,
  LABEL_PARENT_CAPP,
  LABEL_RCS_MANAGED_BY,
  MANAGED_BY_OPERATOR,
  NON_PROPAGATED_ANNOTATION_PREFIXES,
  OwnerReference,
  PLATFORM_CAPP_ANNOTATIONS,
  RCS_MANAGED_BY,
} from '@capp/capp-model';

import { cappName } from './names';

/**
 * On cluster-scoped children (no namespace, no ownerReference): the namespace of the Capp they belong
 * to, under container-app-operator v0.3.5's key.
 */
export const LABEL_PARENT_CAPP_NS = 'rcs.dana.io/parent-capp-ns';
/** The same, under the key this platform wrote first: still written, so existing objects keep matching. */
export const LABEL_PARENT_CAPP_NAMESPACE = 'rcs.dana.io/parent-capp-namespace';

/**
 * Labels every child carries: they find a Capp's children and say who manages them, under our keys
 * and under container-app-operator v0.3.5's (`rcs.dana.io/managed-by: capp`).
 */
export function childLabels(capp: Capp): Record<string, string> {
  return {
    [LABEL_PARENT_CAPP]: cappName(capp),
    [LABEL_MANAGED_BY]: MANAGED_BY_OPERATOR,
    [LABEL_RCS_MANAGED_BY]: RCS_MANAGED_BY,
  };
}

/**
 * The Capp a child belongs to, from its labels: its own namespace, or for a cluster-scoped child the
 * namespace label under either key (v0.3.5's `parent-capp-ns` first, then ours).
 */
export function parentOf(child: {
  metadata: { namespace?: string; labels?: Record<string, string> };
}): { namespace: string; name: string } | undefined {
  const labels = child.metadata.labels ?? {};
  const name = labels[LABEL_PARENT_CAPP];
  const namespace =
    child.metadata.namespace ?? labels[LABEL_PARENT_CAPP_NS] ?? labels[LABEL_PARENT_CAPP_NAMESPACE];
  return name && namespace ? { namespace, name } : undefined;
}

/**
 * The controller ownerReference to the Capp, so garbage collection deletes namespaced children with it.
 * Absent when the Capp has no uid (never stored, e.g. a file the CLI renders).
 */
export function ownerReferences(capp: Capp): OwnerReference[] | undefined {
  const uid = capp.metadata.uid;
  if (!uid) return undefined;
  return [
    {
      apiVersion: CAPP_API_VERSION,
      kind: CAPP_KIND,
      name: cappName(capp),
      uid,
      controller: true,
      blockOwnerDeletion: true,
    },
  ];
}

const inheritable = ([key]: [string, string]): boolean =>
  !PLATFORM_CAPP_ANNOTATIONS.includes(key) &&
  !NON_PROPAGATED_ANNOTATION_PREFIXES.some((p) => key.startsWith(p));

/**
 * The annotations a child may inherit: all but kubectl's (`kubectl.kubernetes.io/`) and the ones the
 * platform keeps for itself (`rcs.dana.io/last-updated-by`).
 */
export function propagatedAnnotations(
  annotations: Record<string, string> | undefined,
): Record<string, string> {
  return Object.fromEntries(Object.entries(annotations ?? {}).filter(inheritable));
}

/**
 * The Capp's `rcs.dana.io/` annotations a child may inherit: what container-app-operator v0.3.5 puts
 * on the revision template (so changing one rolls a new revision).
 */
export function cappGroupAnnotations(
  annotations: Record<string, string> | undefined,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(annotations ?? {}).filter(
      (e) => e[0].startsWith(CAPP_ANNOTATION_PREFIX) && inheritable(e),
    ),
  );
}

export interface ChildMetaOptions {
  clusterScoped?: boolean;
  /** Extra labels, beneath the platform's (which always win). */
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/**
 * Metadata of a child of `capp`. Namespaced: the Capp's namespace and an ownerReference. Cluster-scoped:
 * neither (an ownerReference cannot cross scopes); the Capp's namespace goes into labels instead, and
 * the inventory plus the finalizer clean it up.
 */
export function childMetadata(
  capp: Capp,
  name: string,
  options: ChildMetaOptions = {},
): KubeObject['metadata'] {
  const namespace = capp.metadata.namespace;
  const meta: KubeObject['metadata'] = { name };
  if (namespace && !options.clusterScoped) meta.namespace = namespace;
  meta.labels = { ...options.labels, ...childLabels(capp) };
  if (namespace && options.clusterScoped) {
    meta.labels[LABEL_PARENT_CAPP_NS] = namespace;
    meta.labels[LABEL_PARENT_CAPP_NAMESPACE] = namespace;
  }
  if (options.annotations && Object.keys(options.annotations).length > 0)
    meta.annotations = { ...options.annotations };
  const owners = options.clusterScoped ? undefined : ownerReferences(capp);
  if (owners) meta.ownerReferences = owners;
  return meta;
}
