/**
 * Capps as a new user writes them — valid ones, and ordinary mistakes that break one of Knative
 * Serving's admission rules — with the Capp field path and rule each mistake is refused with. The
 * unit test checks the rules against it; the differential test (tools/knative/differential.spec.ts)
 * checks it, rendered, against Serving's own validation code.
 */

export interface CorpusCapp {
  readonly title: string;
  readonly capp: Record<string, unknown>;
  /** `undefined`: valid. Otherwise the (first) issue our rules report. */
  readonly refused?: { readonly path: string; readonly rule: string };
}

type Obj = Record<string, unknown>;

const IMAGE = 'ghcr.io/dana-team/capp-gin-app:v0.2.0';

/** A valid Capp whose first container is `container` (merged) and whose spec is merged with `spec`. */
export function corpusCapp(
  container: Obj = {},
  spec: Obj = {},
  options: {
    name?: string;
    podSpec?: Obj;
    containers?: Obj[];
    templateMetadata?: Obj;
    annotations?: Obj;
  } = {},
): Record<string, unknown> {
  const containers = options.containers ?? [{ name: 'app', image: IMAGE, ...container }];
  return {
    apiVersion: 'rcs.dana.io/v1alpha1',
    kind: 'Capp',
    metadata: {
      name: options.name ?? 'shop',
      namespace: 'team-a',
      ...(options.annotations ? { annotations: options.annotations } : {}),
    },
    spec: {
      configurationSpec: {
        template: {
          ...(options.templateMetadata ? { metadata: options.templateMetadata } : {}),
          spec: { containers, ...options.podSpec },
        },
      },
      ...spec,
    },
  };
}

const nfs = (name: string): Obj => ({
  name,
  server: 'nfs.example.com',
  path: `/exports/${name}`,
  capacity: { storage: '1Gi' },
});
const C = 'spec.configurationSpec.template.spec.containers[0]';
const POD = 'spec.configurationSpec.template.spec';
const ANN = 'spec.configurationSpec.template.metadata.annotations';
const refused = (path: string, rule: string): { path: string; rule: string } => ({ path, rule });

export const KNATIVE_CORPUS: readonly CorpusCapp[] = [
  // --- valid
  { title: 'the smallest Capp', capp: corpusCapp() },
  { title: 'a port named h2c', capp: corpusCapp({ ports: [{ name: 'h2c', containerPort: 8080 }] }) },
  { title: 'an unnamed port', capp: corpusCapp({ ports: [{ containerPort: 3000 }] }) },
  {
    title: 'two containers, the one with the port serves',
    capp: corpusCapp(
      {},
      {},
      {
        containers: [
          { name: 'app', image: IMAGE, ports: [{ containerPort: 8080 }] },
          { name: 'proxy', image: 'envoyproxy/envoy:v1.31' },
        ],
      },
    ),
  },
  {
    title: 'an NFS volume mounted read-write',
    capp: corpusCapp(
      { volumeMounts: [{ name: 'data', mountPath: '/data' }] },
      { volumesSpec: { nfsVolumes: [nfs('data')] } },
    ),
  },
  {
    title: 'a Secret volume and an emptyDir',
    capp: corpusCapp(
      {
        volumeMounts: [
          { name: 'creds', mountPath: '/etc/creds' },
          { name: 'tmp', mountPath: '/tmp' },
        ],
      },
      {},
      {
        podSpec: {
          volumes: [
            { name: 'creds', secret: { secretName: 'creds' } },
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
    ),
  },
  {
    title: 'probes on the serving port',
    capp: corpusCapp({
      ports: [{ containerPort: 8080 }],
      readinessProbe: { httpGet: { path: '/ready' }, periodSeconds: 5 },
      livenessProbe: { tcpSocket: {}, periodSeconds: 10 },
    }),
  },
  {
    title: 'env from a Secret and a ConfigMap',
    capp: corpusCapp({
      env: [
        { name: 'LEVEL', value: 'debug' },
        { name: 'PASS', valueFrom: { secretKeyRef: { name: 's', key: 'p' } } },
      ],
      envFrom: [{ configMapRef: { name: 'cfg' } }],
    }),
  },
  { title: 'min and max replicas', capp: corpusCapp({}, { minReplicas: 1, maxReplicas: 5 }) },
  {
    title: 'a route timeout and a concurrency limit',
    capp: corpusCapp(
      {},
      { routeSpec: { routeTimeoutSeconds: 120 } },
      { podSpec: { containerConcurrency: 50 } },
    ),
  },
  {
    title: 'a pod securityContext (feature on in the platform)',
    capp: corpusCapp({}, {}, { podSpec: { securityContext: { runAsUser: 1000, fsGroup: 2000 } } }),
  },
  {
    title: 'a scale window annotation',
    capp: corpusCapp(
      {},
      {},
      { templateMetadata: { annotations: { 'autoscaling.knative.dev/window': '60s' } } },
    ),
  },
  {
    title: 'a traffic target with a tag',
    capp: corpusCapp({}, { routeSpec: { trafficTarget: { latestRevision: true, tag: 'current' } } }),
  },

  // --- one rule broken
  {
    title: 'a port named web',
    capp: corpusCapp({ ports: [{ name: 'web', containerPort: 8080 }] }),
    refused: refused(`${C}.ports[0].name`, 'knative.portName'),
  },
  {
    title: 'a port named http',
    capp: corpusCapp({ ports: [{ name: 'http', containerPort: 8080 }] }),
    refused: refused(`${C}.ports[0].name`, 'knative.portName'),
  },
  {
    title: 'two ports',
    capp: corpusCapp({ ports: [{ containerPort: 8080 }, { containerPort: 9000 }] }),
    refused: refused(`${POD}.containers`, 'knative.containerPort'),
  },
  {
    title: 'a UDP port',
    capp: corpusCapp({ ports: [{ containerPort: 8080, protocol: 'UDP' }] }),
    refused: refused(`${C}.ports[0].protocol`, 'knative.containerPort'),
  },
  {
    title: "queue-proxy's port 8012",
    capp: corpusCapp({ ports: [{ containerPort: 8012 }] }),
    refused: refused(`${C}.ports[0].containerPort`, 'knative.reservedPort'),
  },
  {
    title: 'a hostPort',
    capp: corpusCapp({ ports: [{ containerPort: 8080, hostPort: 80 }] }),
    refused: refused(`${C}.ports[0].hostPort`, 'knative.disallowedField'),
  },
  {
    title: 'K_SERVICE in env',
    capp: corpusCapp({ env: [{ name: 'K_SERVICE', value: 'x' }] }),
    refused: refused(`${C}.env[0].name`, 'knative.reservedEnv'),
  },
  {
    title: 'PORT in env',
    capp: corpusCapp({ env: [{ name: 'PORT', value: '80' }] }),
    refused: refused(`${C}.env[0].name`, 'knative.reservedEnv'),
  },
  {
    title: 'an env var without a name',
    capp: corpusCapp({ env: [{ value: 'x' }] }),
    refused: refused(`${C}.env[0].name`, 'knative.env'),
  },
  {
    title: 'env from the downward API (fieldRef off)',
    capp: corpusCapp({ env: [{ name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] }),
    refused: refused(`${C}.env[0].valueFrom.fieldRef`, 'knative.featureDisabled'),
  },
  {
    title: 'envFrom with both refs',
    capp: corpusCapp({ envFrom: [{ configMapRef: { name: 'a' }, secretRef: { name: 'b' } }] }),
    refused: refused(`${C}.envFrom[0]`, 'knative.envFrom'),
  },
  {
    title: 'a mount at /dev',
    capp: corpusCapp(
      { volumeMounts: [{ name: 'tmp', mountPath: '/dev' }] },
      {},
      { podSpec: { volumes: [{ name: 'tmp', emptyDir: {} }] } },
    ),
    refused: refused(`${C}.volumeMounts[0].mountPath`, 'knative.volumeMount'),
  },
  {
    title: 'a relative mount path',
    capp: corpusCapp(
      { volumeMounts: [{ name: 'tmp', mountPath: 'data' }] },
      {},
      { podSpec: { volumes: [{ name: 'tmp', emptyDir: {} }] } },
    ),
    refused: refused(`${C}.volumeMounts[0].mountPath`, 'knative.volumeMount'),
  },
  {
    title: 'a mount of an undefined volume',
    capp: corpusCapp({ volumeMounts: [{ name: 'missing', mountPath: '/data' }] }),
    refused: refused(`${C}.volumeMounts[0].name`, 'knative.volumeMount'),
  },
  {
    title: 'an NFS volume nobody mounts',
    capp: corpusCapp({}, { volumesSpec: { nfsVolumes: [nfs('data')] } }),
    refused: refused('spec.volumesSpec.nfsVolumes[0].name', 'knative.volumeNotMounted'),
  },
  {
    title: 'a volume nobody mounts',
    capp: corpusCapp({}, {}, { podSpec: { volumes: [{ name: 'tmp', emptyDir: {} }] } }),
    refused: refused(`${POD}.volumes[0].name`, 'knative.volumeNotMounted'),
  },
  {
    title: 'a hostPath volume',
    capp: corpusCapp(
      { volumeMounts: [{ name: 'host', mountPath: '/host' }] },
      {},
      { podSpec: { volumes: [{ name: 'host', hostPath: { path: '/var' } }] } },
    ),
    refused: refused(`${POD}.volumes[0].hostPath`, 'knative.featureDisabled'),
  },
  {
    title: 'a volume without a source',
    capp: corpusCapp(
      { volumeMounts: [{ name: 'v', mountPath: '/v' }] },
      {},
      { podSpec: { volumes: [{ name: 'v' }] } },
    ),
    refused: refused(`${POD}.volumes[0]`, 'knative.volumeSource'),
  },
  {
    title: 'no image',
    capp: corpusCapp({ image: undefined }),
    refused: refused(`${C}.image`, 'knative.image'),
  },
  {
    title: 'an image with uppercase letters',
    capp: corpusCapp({ image: 'Nginx:latest' }),
    refused: refused(`${C}.image`, 'knative.image'),
  },
  {
    title: 'two containers without a port',
    capp: corpusCapp(
      {},
      {},
      {
        containers: [
          { name: 'a', image: IMAGE },
          { name: 'b', image: IMAGE },
        ],
      },
    ),
    refused: refused(`${POD}.containers`, 'knative.containerPort'),
  },
  {
    title: 'two containers with the same name',
    capp: corpusCapp(
      {},
      {},
      {
        containers: [
          { name: 'a', image: IMAGE, ports: [{ containerPort: 8080 }] },
          { name: 'a', image: IMAGE },
        ],
      },
    ),
    refused: refused(`${POD}.containers[1].name`, 'knative.containerName'),
  },
  {
    title: 'a container named queue-proxy',
    capp: corpusCapp({ name: 'queue-proxy' }),
    refused: refused(`${C}.name`, 'knative.containerName'),
  },
  {
    title: 'stdin: true',
    capp: corpusCapp({ stdin: true }),
    refused: refused(`${C}.stdin`, 'knative.disallowedField'),
  },
  {
    title: 'tty: true',
    capp: corpusCapp({ tty: true }),
    refused: refused(`${C}.tty`, 'knative.disallowedField'),
  },
  {
    title: 'a lifecycle hook',
    capp: corpusCapp({ lifecycle: { preStop: { exec: { command: ['sleep', '5'] } } } }),
    refused: refused(`${C}.lifecycle`, 'knative.disallowedField'),
  },
  {
    title: 'nodeName',
    capp: corpusCapp({}, {}, { podSpec: { nodeName: 'node-1' } }),
    refused: refused(`${POD}.nodeName`, 'knative.disallowedField'),
  },
  {
    title: 'restartPolicy',
    capp: corpusCapp({}, {}, { podSpec: { restartPolicy: 'Always' } }),
    refused: refused(`${POD}.restartPolicy`, 'knative.disallowedField'),
  },
  {
    title: 'terminationGracePeriodSeconds',
    capp: corpusCapp({}, {}, { podSpec: { terminationGracePeriodSeconds: 30 } }),
    refused: refused(`${POD}.terminationGracePeriodSeconds`, 'knative.disallowedField'),
  },
  {
    title: 'nodeSelector (feature off)',
    capp: corpusCapp({}, {}, { podSpec: { nodeSelector: { disk: 'ssd' } } }),
    refused: refused(`${POD}.nodeSelector`, 'knative.featureDisabled'),
  },
  {
    title: 'tolerations (feature off)',
    capp: corpusCapp({}, {}, { podSpec: { tolerations: [{ key: 'k', operator: 'Exists' }] } }),
    refused: refused(`${POD}.tolerations`, 'knative.featureDisabled'),
  },
  {
    title: 'hostNetwork',
    capp: corpusCapp({}, {}, { podSpec: { hostNetwork: true } }),
    refused: refused(`${POD}.hostNetwork`, 'knative.featureDisabled'),
  },
  {
    title: "an init container named like the app's",
    capp: corpusCapp({}, {}, { podSpec: { initContainers: [{ name: 'app', image: IMAGE }] } }),
    refused: refused(`${POD}.initContainers[0].name`, 'knative.containerName'),
  },
  {
    title: 'an init container with a readiness probe',
    capp: corpusCapp(
      {},
      {},
      { podSpec: { initContainers: [{ name: 'init', image: IMAGE, readinessProbe: { tcpSocket: {} } }] } },
    ),
    refused: refused(`${POD}.initContainers[0].readinessProbe`, 'knative.initContainer'),
  },
  {
    title: 'runtimeClassName (feature off)',
    capp: corpusCapp({}, {}, { podSpec: { runtimeClassName: 'gvisor' } }),
    refused: refused(`${POD}.runtimeClassName`, 'knative.featureDisabled'),
  },
  {
    title: 'a privileged container',
    capp: corpusCapp({ securityContext: { privileged: true } }),
    refused: refused(`${C}.securityContext.privileged`, 'knative.disallowedField'),
  },
  {
    title: 'an added capability',
    capp: corpusCapp({ securityContext: { capabilities: { add: ['NET_ADMIN'] } } }),
    refused: refused(`${C}.securityContext.capabilities.add`, 'knative.featureDisabled'),
  },
  {
    title: 'a liveness probe without a handler',
    capp: corpusCapp({ livenessProbe: { periodSeconds: 10 } }),
    refused: refused(`${C}.livenessProbe`, 'knative.probe'),
  },
  {
    title: 'a probe on another named port',
    capp: corpusCapp({ ports: [{ containerPort: 8080 }], readinessProbe: { httpGet: { port: 'admin' } } }),
    refused: refused(`${C}.readinessProbe.httpGet.port`, 'knative.probe'),
  },
  {
    title: 'a readiness probe with two handlers',
    capp: corpusCapp({ readinessProbe: { httpGet: {}, tcpSocket: {} } }),
    refused: refused(`${C}.readinessProbe`, 'knative.probe'),
  },
  {
    title: 'a readiness timeout without a period',
    capp: corpusCapp({ readinessProbe: { tcpSocket: {}, timeoutSeconds: 5 } }),
    refused: refused(`${C}.readinessProbe.timeoutSeconds`, 'knative.probe'),
  },
  {
    title: 'a probe on a sidecar (multi-container-probing off)',
    capp: corpusCapp(
      {},
      {},
      {
        containers: [
          { name: 'app', image: IMAGE, ports: [{ containerPort: 8080 }] },
          { name: 'side', image: IMAGE, readinessProbe: { tcpSocket: { port: 9000 } } },
        ],
      },
    ),
    refused: refused(`${POD}.containers[1].readinessProbe`, 'knative.sidecarProbe'),
  },
  {
    title: 'a route timeout above the cluster maximum',
    capp: corpusCapp({}, { routeSpec: { routeTimeoutSeconds: 3600 } }),
    refused: refused('spec.routeSpec.routeTimeoutSeconds', 'knative.timeoutSeconds'),
  },
  {
    title: 'a template timeout above the maximum',
    capp: corpusCapp({}, {}, { podSpec: { timeoutSeconds: 601 } }),
    refused: refused(`${POD}.timeoutSeconds`, 'knative.timeoutSeconds'),
  },
  {
    title: 'containerConcurrency above 1000',
    capp: corpusCapp({}, {}, { podSpec: { containerConcurrency: 5000 } }),
    refused: refused(`${POD}.containerConcurrency`, 'knative.containerConcurrency'),
  },
  {
    title: 'a bad min-scale annotation',
    capp: corpusCapp(
      {},
      {},
      { templateMetadata: { annotations: { 'autoscaling.knative.dev/min-scale': 'two' } } },
    ),
    refused: refused(`${ANN}[autoscaling.knative.dev/min-scale]`, 'knative.autoscaling'),
  },
  {
    title: 'max-scale below min-scale in annotations',
    capp: corpusCapp(
      {},
      {},
      {
        templateMetadata: {
          annotations: { 'autoscaling.knative.dev/min-scale': '5', 'autoscaling.knative.dev/max-scale': '2' },
        },
      },
    ),
    refused: refused(`${ANN}[autoscaling.knative.dev/max-scale]`, 'knative.autoscaling'),
  },
  {
    title: 'a 1s scale window',
    capp: corpusCapp(
      {},
      {},
      { templateMetadata: { annotations: { 'autoscaling.knative.dev/window': '1s' } } },
    ),
    refused: refused(`${ANN}[autoscaling.knative.dev/window]`, 'knative.autoscaling'),
  },
  {
    title: 'a cpu metric on the KPA',
    capp: corpusCapp(
      {},
      {},
      { templateMetadata: { annotations: { 'autoscaling.knative.dev/metric': 'cpu' } } },
    ),
    refused: refused(`${ANN}[autoscaling.knative.dev/metric]`, 'knative.autoscaling'),
  },
  {
    title: 'initial-scale 0',
    capp: corpusCapp(
      {},
      {},
      { templateMetadata: { annotations: { 'autoscaling.knative.dev/initial-scale': '0' } } },
    ),
    refused: refused(`${ANN}[autoscaling.knative.dev/initial-scale]`, 'knative.autoscaling'),
  },
  {
    title: 'activation-scale 1',
    capp: corpusCapp(
      {},
      {},
      { templateMetadata: { annotations: { 'autoscaling.knative.dev/activation-scale': '1' } } },
    ),
    refused: refused(`${ANN}[autoscaling.knative.dev/activation-scale]`, 'knative.autoscaling'),
  },
  {
    title: 'a target below 0.01',
    capp: corpusCapp(
      {},
      {},
      { templateMetadata: { annotations: { 'autoscaling.knative.dev/target': '0' } } },
    ),
    refused: refused(`${ANN}[autoscaling.knative.dev/target]`, 'knative.autoscaling'),
  },
  {
    title: 'an autoscaling annotation on the Capp itself',
    capp: corpusCapp({}, {}, { annotations: { 'autoscaling.knative.dev/min-scale': '1' } }),
    refused: refused(
      'metadata.annotations[autoscaling.knative.dev/min-scale]',
      'knative.autoscalingAnnotationPlacement',
    ),
  },
  {
    title: 'an unknown networking annotation',
    capp: corpusCapp({}, {}, { templateMetadata: { annotations: { 'networking.knative.dev/foo': 'x' } } }),
    refused: refused(`${ANN}[networking.knative.dev/foo]`, 'knative.annotation'),
  },
  {
    title: 'a Capp name with a dot',
    capp: corpusCapp({}, {}, { name: 'shop.v2' }),
    refused: refused('metadata.name', 'name'),
  },
  {
    title: 'a Capp name starting with a digit',
    capp: corpusCapp({}, {}, { name: '1shop' }),
    refused: refused('metadata.name', 'name'),
  },
  {
    title: 'a revision name without the Capp prefix',
    capp: corpusCapp({}, {}, { templateMetadata: { name: 'v1' } }),
    refused: refused('spec.configurationSpec.template.metadata.name', 'knative.revisionName'),
  },
  {
    title: 'a traffic target at 50 percent',
    capp: corpusCapp({}, { routeSpec: { trafficTarget: { latestRevision: true, percent: 50 } } }),
    refused: refused('spec.routeSpec.trafficTarget.percent', 'knative.traffic'),
  },
  {
    title: 'a traffic target pinned and latest',
    capp: corpusCapp(
      {},
      { routeSpec: { trafficTarget: { latestRevision: true, revisionName: 'shop-00001' } } },
    ),
    refused: refused('spec.routeSpec.trafficTarget.latestRevision', 'knative.traffic'),
  },
  {
    title: 'a bad rollout-duration',
    capp: corpusCapp({}, {}, { annotations: { 'serving.knative.dev/rollout-duration': 'soon' } }),
    refused: refused('metadata.annotations[serving.knative.dev/rollout-duration]', 'knative.annotation'),
  },
  {
    title: 'automountServiceAccountToken: true',
    capp: corpusCapp({}, {}, { podSpec: { automountServiceAccountToken: true } }),
    refused: refused(`${POD}.automountServiceAccountToken`, 'knative.disallowedField'),
  },
  {
    title: 'a bad serviceAccountName',
    capp: corpusCapp({}, {}, { podSpec: { serviceAccountName: 'My_SA' } }),
    refused: refused(`${POD}.serviceAccountName`, 'knative.serviceAccountName'),
  },
];
