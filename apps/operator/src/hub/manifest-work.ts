import {
  ANNOTATION_LAST_UPDATED_BY,
  type Capp,
  CAPP_GROUP,
  type KubeObject,
  LABEL_MANAGED_BY,
  MANAGED_BY_OPERATOR,
  NON_PROPAGATED_ANNOTATION_PREFIXES,
} from '@capp/capp-model';

import {
  ANNOTATION_HAS_PLACEMENT,
  ANNOTATION_PLACED_FOR_SITE,
  ANNOTATION_WORK_CAPP_NAME,
  ANNOTATION_WORK_CAPP_NAMESPACE,
  ANNOTATION_WORK_HUB_GENERATION,
  HEARTBEAT_WORK_NAME,
  LABEL_WORK_CAPP,
  LABEL_WORK_ROLE,
  type ManifestWork,
  workName,
} from './ocm';

/** The names of the Secrets and ConfigMaps (in the Capp's namespace) a Capp needs on its cluster. */
export interface References {
  secrets: string[];
  configMaps: string[];
}

type Named = { name?: string } | undefined;
type PodSpecLike = {
  containers?: ContainerLike[];
  initContainers?: ContainerLike[];
  volumes?: Array<{
    secret?: { secretName?: string };
    configMap?: Named;
    projected?: { sources?: Array<{ secret?: Named; configMap?: Named }> };
  }>;
  imagePullSecrets?: Array<Named>;
};
type ContainerLike = {
  env?: Array<{ valueFrom?: { secretKeyRef?: Named; configMapKeyRef?: Named } }>;
  envFrom?: Array<{ secretRef?: Named; configMapRef?: Named }>;
};

/**
 * What a Capp references and so must find on its managed cluster: the logSpec's Secrets, and what its
 * pod template takes from Secrets and ConfigMaps (env, envFrom, volumes, image pull secrets). Sorted.
 */
export function referencesOf(capp: Capp): References {
  const secrets = new Set<string>();
  const configMaps = new Set<string>();
  const add = (set: Set<string>, name: string | undefined): void => {
    if (name) set.add(name);
  };
  add(secrets, capp.spec.logSpec?.passwordSecret);
  add(secrets, capp.spec.logSpec?.hecTokenSecret);
  const pod = (capp.spec.configurationSpec?.template?.spec ?? {}) as PodSpecLike;
  for (const c of [...(pod.containers ?? []), ...(pod.initContainers ?? [])]) {
    for (const e of c.env ?? []) {
      add(secrets, e.valueFrom?.secretKeyRef?.name);
      add(configMaps, e.valueFrom?.configMapKeyRef?.name);
    }
    for (const e of c.envFrom ?? []) {
      add(secrets, e.secretRef?.name);
      add(configMaps, e.configMapRef?.name);
    }
  }
  for (const v of pod.volumes ?? []) {
    add(secrets, v.secret?.secretName);
    add(configMaps, v.configMap?.name);
    for (const s of v.projected?.sources ?? []) {
      add(secrets, s.secret?.name);
      add(configMaps, s.configMap?.name);
    }
  }
  for (const s of pod.imagePullSecrets ?? []) add(secrets, s?.name);
  return { secrets: [...secrets].sort(), configMaps: [...configMaps].sort() };
}

/**
 * Annotations of the hub Capp that are the hub's bookkeeping, not the managed Capp's. `last-updated-by`
 * names a hub user, whom the managed cluster's admission webhook would refuse from the work agent.
 */
const HUB_ONLY_ANNOTATIONS = [
  ANNOTATION_HAS_PLACEMENT,
  ANNOTATION_PLACED_FOR_SITE,
  ANNOTATION_LAST_UPDATED_BY,
];

/** The managed copy of a hub Capp: its labels, annotations (but the hub's bookkeeping) and spec. */
function managedCapp(capp: Capp): KubeObject {
  const annotations = Object.fromEntries(
    Object.entries(capp.metadata.annotations ?? {}).filter(
      ([k]) =>
        !HUB_ONLY_ANNOTATIONS.includes(k) && !NON_PROPAGATED_ANNOTATION_PREFIXES.some((p) => k.startsWith(p)),
    ),
  );
  return {
    apiVersion: capp.apiVersion,
    kind: capp.kind,
    metadata: {
      name: capp.metadata.name,
      namespace: capp.metadata.namespace,
      ...(capp.metadata.labels && Object.keys(capp.metadata.labels).length > 0
        ? { labels: { ...capp.metadata.labels } }
        : {}),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    spec: capp.spec as unknown as Record<string, unknown>,
  };
}

/** A Secret or ConfigMap as carried: its data, type, labels; none of the hub's bookkeeping. */
function carried(obj: KubeObject): KubeObject {
  const out: KubeObject = {
    apiVersion: 'v1',
    kind: obj.kind,
    metadata: {
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      ...(obj.metadata.labels ? { labels: { ...obj.metadata.labels } } : {}),
    },
  };
  for (const key of ['type', 'data', 'stringData', 'binaryData', 'immutable']) {
    if (obj[key] !== undefined) out[key] = obj[key];
  }
  return out;
}

/**
 * The feedback the hub reads of the managed Capp (`--feature-gates=RawFeedbackJsonString=true`).
 * `ready` alone stays within the work agent's default 1 KiB limit of a raw JSON value (which the
 * klusterlet cannot raise) when all the conditions together exceed it.
 */
export const CAPP_FEEDBACK = {
  conditions: '.status.conditions',
  ready: '.status.conditions[?(@.type=="Ready")]',
  url: '.status.url',
  observedGeneration: '.status.observedGeneration',
  generation: '.metadata.generation',
} as const;

/**
 * A hub Capp's ManifestWork (`mw-create-<ns>-<name>` in the cluster's namespace): its Namespace (left
 * in place when the work goes: other Capps may live there), the Secrets and ConfigMaps it references
 * that exist on the hub, and the Capp itself, whose conditions, URL and generations come back as
 * status feedback.
 */
export function buildManifestWork(
  capp: Capp,
  cluster: string,
  referenced: readonly KubeObject[],
): ManifestWork {
  const namespace = capp.metadata.namespace ?? 'default';
  const name = capp.metadata.name;
  const manifests: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    ...[...referenced]
      .sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`))
      .map(carried),
    managedCapp(capp),
  ];
  return {
    apiVersion: 'work.open-cluster-management.io/v1',
    kind: 'ManifestWork',
    metadata: {
      name: workName(namespace, name),
      namespace: cluster,
      labels: {
        [LABEL_MANAGED_BY]: MANAGED_BY_OPERATOR,
        [LABEL_WORK_ROLE]: 'capp',
        [LABEL_WORK_CAPP]: `${namespace}.${name}`,
      },
      annotations: {
        [ANNOTATION_WORK_CAPP_NAME]: name,
        [ANNOTATION_WORK_CAPP_NAMESPACE]: namespace,
        [ANNOTATION_WORK_HUB_GENERATION]: String(capp.metadata.generation ?? 0),
      },
    },
    spec: {
      workload: { manifests },
      deleteOption: {
        propagationPolicy: 'SelectivelyOrphan',
        selectivelyOrphans: { orphaningRules: [{ group: '', resource: 'namespaces', name: namespace }] },
      },
      manifestConfigs: [
        {
          resourceIdentifier: { group: CAPP_GROUP, resource: 'capps', namespace, name },
          feedbackRules: [
            {
              type: 'JSONPaths',
              jsonPaths: Object.entries(CAPP_FEEDBACK).map(([n, path]) => ({ name: n, path })),
            },
          ],
        },
      ],
    },
  };
}

/** Where the managed operator's leader Lease is (`--lease-name` in `--operator-namespace`). */
export interface HeartbeatLease {
  namespace: string;
  name: string;
}

/**
 * The per-cluster heartbeat: a read-only ManifestWork on the managed operator's leader Lease whose
 * `renewTime` comes back as feedback. It moves only while the work agent syncs status and the managed
 * operator renews its lease, so a value that stops moving means the cluster is out of reach.
 */
export function buildHeartbeatWork(cluster: string, lease: HeartbeatLease): ManifestWork {
  return {
    apiVersion: 'work.open-cluster-management.io/v1',
    kind: 'ManifestWork',
    metadata: {
      name: HEARTBEAT_WORK_NAME,
      namespace: cluster,
      labels: { [LABEL_MANAGED_BY]: MANAGED_BY_OPERATOR, [LABEL_WORK_ROLE]: 'heartbeat' },
    },
    spec: {
      workload: {
        manifests: [
          {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: lease.name, namespace: lease.namespace },
          },
        ],
      },
      manifestConfigs: [
        {
          resourceIdentifier: {
            group: 'coordination.k8s.io',
            resource: 'leases',
            namespace: lease.namespace,
            name: lease.name,
          },
          updateStrategy: { type: 'ReadOnly' },
          feedbackRules: [
            {
              type: 'JSONPaths',
              jsonPaths: [
                { name: 'renewTime', path: '.spec.renewTime' },
                { name: 'holder', path: '.spec.holderIdentity' },
              ],
            },
          ],
        },
      ],
    },
  };
}
