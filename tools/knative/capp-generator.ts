/**
 * Generated Capps for the differential test: structurally valid Capps whose Knative-facing parts
 * (containers, ports, env, volumes and mounts, probes, pod fields, annotations, timeouts, traffic,
 * NFS volumes) are drawn from values near every rule's edges — the valid, the reserved, the
 * feature-gated, the off-by-one — so that most Capps break zero, one or a few rules.
 */
import fc from 'fast-check';

type Obj = Record<string, unknown>;

/** `arb` with probability `p`, else absent. */
const opt = <T>(arb: fc.Arbitrary<T>, p = 0.5): fc.Arbitrary<T | undefined> =>
  fc.oneof(
    { weight: Math.round((1 - p) * 1000), arbitrary: fc.constant(undefined) },
    { weight: Math.round(p * 1000), arbitrary: arb },
  );

/** Mostly a valid value, sometimes (probability `p`) one that breaks a rule. */
const pick = <T>(valid: readonly T[], invalid: readonly T[], p = 0.15): fc.Arbitrary<T> =>
  invalid.length === 0
    ? fc.constantFrom(...valid)
    : fc.oneof(
        { weight: Math.round((1 - p) * 1000), arbitrary: fc.constantFrom(...valid) },
        { weight: Math.round(p * 1000), arbitrary: fc.constantFrom(...invalid) },
      );

const defined = (o: Obj): Obj => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

const IMAGES = pick(
  [
    'ghcr.io/acme/app:1.0',
    'nginx',
    'localhost:5000/team/app:v2',
    'app:',
    'registry.example.com/a/b/c@sha256:' + 'ab'.repeat(32),
  ],
  ['Nginx:1', '', 'app:bad tag', 'a@sha256:12', 'a:1', 'x'],
  0.05,
);
const PORT_NAMES = pick(['', 'h2c', 'http1'], ['http', 'web']);
const PORTS = pick([8080, 3000, 80, 65535], [8012, 8022, 9090, 9091, 8008, 70000]);
const ENV_NAMES = pick(['LEVEL', 'MODE'], ['PORT', 'K_SERVICE', 'K_REVISION', 'K_CONFIGURATION', '']);
const VOLUME_NAMES = ['data', 'cache', 'tmp'];
const MOUNT_PATHS = pick(
  ['/data', '/cache', '/tmp/x', '/var/log', '/dev/shm'],
  ['/dev', '/', '/dev/log', '/dev/', 'relative', ''],
);

const port = fc
  .record({
    containerPort: PORTS,
    name: opt(PORT_NAMES),
    protocol: opt(pick(['TCP'], ['UDP'], 0.3), 0.2),
    hostPort: opt(fc.constant(80), 0.03),
  })
  .map(defined);

const env = fc.oneof(
  fc.record({ name: ENV_NAMES, value: fc.constant('x') }),
  fc.record({
    name: fc.constant('SECRET'),
    valueFrom: fc.constantFrom<Obj>(
      { secretKeyRef: { name: 's', key: 'k' } },
      { secretKeyRef: { name: 's2', key: 'k' } },
      { configMapKeyRef: { name: 'c2', key: 'k' } },
      { fieldRef: { fieldPath: 'metadata.name' } },
      { configMapKeyRef: { name: 'c', key: 'k' } },
    ),
  }),
);

const envFrom = fc.constantFrom<Obj>(
  { configMapRef: { name: 'c' } },
  { secretRef: { name: 's' } },
  { configMapRef: { name: 'c' }, secretRef: { name: 's' } },
  { prefix: 'P_' },
);

const handler = fc.constantFrom<Obj>(
  { tcpSocket: {} },
  { httpGet: { path: '/healthz' } },
  { httpGet: { path: '/healthz', port: 'http' } },
  { httpGet: { port: 'admin' } },
  { tcpSocket: { port: 9000 } },
  { exec: { command: ['true'] } },
  { grpc: { port: 8080 } },
  {},
  { tcpSocket: {}, httpGet: {} },
);
const probe = fc
  .tuple(
    handler,
    fc.record({
      periodSeconds: opt(fc.constantFrom(0, 5, -1), 0.4),
      timeoutSeconds: opt(fc.constantFrom(0, 1, 5, -1), 0.3),
      failureThreshold: opt(fc.constantFrom(0, 3, -2), 0.3),
      successThreshold: opt(fc.constantFrom(0, 1, 2, -1), 0.2),
      initialDelaySeconds: opt(fc.constantFrom(0, 5, -3), 0.2),
    }),
  )
  .map(([h, n]) => ({ ...h, ...defined(n) }));

const mount = fc
  .record({
    name: pick(VOLUME_NAMES, ['missing'], 0.1),
    mountPath: MOUNT_PATHS,
    readOnly: opt(fc.boolean(), 0.3),
    mountPropagation: opt(fc.constantFrom('None', 'Bidirectional'), 0.02),
    subPath: opt(fc.constant('sub'), 0.1),
  })
  .map(defined);

const securityContext = fc
  .record({
    privileged: opt(fc.boolean(), 0.1),
    runAsUser: opt(fc.constantFrom(1000, 0, -1), 0.2),
    readOnlyRootFilesystem: opt(fc.boolean(), 0.2),
    capabilities: opt(
      fc.constantFrom<Obj>(
        { drop: ['ALL'] },
        { add: ['NET_ADMIN'] },
        { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
      ),
      0.2,
    ),
    allowPrivilegeEscalation: opt(fc.boolean(), 0.2),
  })
  .map(defined);

const container = (withPort: boolean | undefined): fc.Arbitrary<Obj> =>
  fc
    .record({
      name: opt(pick(['app', 'side'], ['queue-proxy'], 0.05), 0.7),
      image: IMAGES,
      ports:
        withPort === undefined
          ? opt(
              pick([[port]], [[port, port]], 0.1).chain((ps) => fc.tuple(...ps)),
              0.5,
            )
          : withPort
            ? fc.array(port, { minLength: 1, maxLength: 1 })
            : fc.constant(undefined),
      env: opt(fc.array(env, { maxLength: 3 }), 0.4),
      envFrom: opt(fc.array(envFrom, { maxLength: 2 }), 0.08),
      volumeMounts: opt(fc.array(mount, { maxLength: 3 }), 0.5),
      readinessProbe: opt(probe, 0.15),
      livenessProbe: opt(probe, 0.12),
      startupProbe: opt(probe, 0.05),
      securityContext: opt(securityContext, 0.2),
      resources: opt(
        fc.constantFrom<Obj>(
          { limits: { cpu: '1', memory: '512Mi' } },
          { requests: { cpu: '100m' } },
          { limits: { cpu: '1', memory: '512Mi' } },
          { requests: { cpu: '100m' } },
          { claims: [{ name: 'gpu' }] },
        ),
        0.2,
      ),
      stdin: opt(fc.boolean(), 0.02),
      tty: opt(fc.boolean(), 0.02),
      lifecycle: opt(fc.constant<Obj>({ preStop: { exec: { command: ['sleep', '1'] } } }), 0.02),
      terminationMessagePolicy: opt(fc.constantFrom('File', 'FallbackToLogsOnError', 'Sometimes'), 0.05),
      workingDir: opt(fc.constant('/app'), 0.1),
      imagePullPolicy: opt(fc.constantFrom('Always', 'IfNotPresent'), 0.1),
    })
    .map(defined);

const volume = fc
  .tuple(
    pick(VOLUME_NAMES, ['Bad_Name'], 0.05),
    pick<Obj>(
      [
        { emptyDir: {} },
        { emptyDir: { medium: 'Memory' } },
        { secret: { secretName: 's' } },
        { secret: { secretName: 's', items: [{ key: 'a', path: 'a' }] } },
        { configMap: { name: 'c' } },
        { persistentVolumeClaim: { claimName: 'pvc' } },
        { persistentVolumeClaim: { claimName: 'pvc', readOnly: true } },
        { projected: { sources: [{ secret: { name: 's' } }, { serviceAccountToken: { path: 'token' } }] } },
      ],
      [
        { emptyDir: { medium: 'Disk' } },
        { secret: { secretName: 's', items: [{ key: 'a' }] } },
        { hostPath: { path: '/var' } },
        { downwardAPI: { items: [{ path: 'n', fieldRef: { fieldPath: 'metadata.name' } }] } },
        { projected: { sources: [{}] } },
        { nfs: { server: 's', path: '/p' } },
        {},
        { emptyDir: {}, secret: { secretName: 's' } },
      ],
      0.3,
    ),
  )
  .map(([name, source]) => ({ name, ...source }));

const ANNOTATIONS: Record<string, readonly string[]> = {
  'autoscaling.knative.dev/min-scale': ['0', '1', '3', '-1', 'two'],
  'autoscaling.knative.dev/max-scale': ['0', '2', '10', 'x'],
  'autoscaling.knative.dev/minScale': ['2'],
  'autoscaling.knative.dev/activation-scale': ['1', '2', '5', 'x'],
  'autoscaling.knative.dev/initial-scale': ['0', '1', '-1', 'x'],
  'autoscaling.knative.dev/window': ['60s', '1s', '2h', '1.5s', '6s', 'x'],
  'autoscaling.knative.dev/target': ['100', '0', '0.5', 'x'],
  'autoscaling.knative.dev/target-utilization-percentage': ['70', '0', '101'],
  'autoscaling.knative.dev/metric': ['concurrency', 'rps', 'cpu', 'latency'],
  'autoscaling.knative.dev/class': [
    'kpa.autoscaling.knative.dev',
    'hpa.autoscaling.knative.dev',
    'foo.autoscaling.knative.dev',
    'custom.example.com',
  ],
  'autoscaling.knative.dev/panic-window-percentage': ['10', '0', '200'],
  'autoscaling.knative.dev/panic-threshold-percentage': ['200', '100', '1001'],
  'autoscaling.knative.dev/scale-down-delay': ['15m', '2h', '1.5s', '-1s'],
  'autoscaling.knative.dev/scale-to-zero-pod-retention-period': ['1m', '2h', 'x'],
  'autoscaling.knative.dev/target-burst-capacity': ['-1', '0', '200', '-5'],
  'autoscaling.knative.dev/metric-aggregation-algorithm': ['linear', 'weighted-exponential', 'median'],
  'networking.knative.dev/disable-auto-tls': ['true'],
  'networking.knative.dev/visibility': ['cluster-local'],
  'serving.knative.dev/progress-deadline': ['10m', '1.5s', '-1m', 'x'],
  'queue.sidecar.serving.knative.dev/cpu-resource-request': ['100m', 'lots'],
  'queue.sidecar.serving.knative.dev/resource-percentage': ['20', '0.01', 'x'],
};
const annotations = fc
  .subarray(Object.keys(ANNOTATIONS), { maxLength: 3 })
  .chain((keys) =>
    fc.tuple(
      ...keys.map((k) => fc.constantFrom(...(ANNOTATIONS[k] as string[]).map((v) => [k, v] as const))),
    ),
  )
  .map((pairs) => Object.fromEntries(pairs));

const podFields = fc.record({
  nodeName: opt(fc.constant('node-1'), 0.04),
  restartPolicy: opt(fc.constantFrom('Always', 'Never'), 0.04),
  nodeSelector: opt(fc.constant({ disk: 'ssd' }), 0.03),
  tolerations: opt(fc.constant([{ key: 'k', operator: 'Exists' }]), 0.04),
  hostNetwork: opt(fc.boolean(), 0.04),
  automountServiceAccountToken: opt(fc.boolean(), 0.05),
  serviceAccountName: opt(fc.constantFrom('builder', 'My_SA'), 0.06),
  terminationGracePeriodSeconds: opt(fc.constantFrom(0, 30), 0.02),
  securityContext: opt(
    fc.constantFrom<Obj>(
      { runAsUser: 1000 },
      { fsGroup: 2000 },
      { sysctls: [{ name: 'a', value: 'b' }] },
      { runAsUser: -1 },
      {},
    ),
    0.06,
  ),
  imagePullSecrets: opt(fc.constant([{ name: 'pull' }]), 0.05),
  timeoutSeconds: opt(fc.constantFrom(0, 30, 600, 601, 3600), 0.15),
  containerConcurrency: opt(fc.constantFrom(0, 1, 100, 1000, 1001), 0.15),
  volumes: opt(fc.array(volume, { maxLength: 3 }), 0.4),
  initContainers: opt(fc.constant([{ name: 'init', image: 'busybox' }]), 0.04),
});

const nfsVolume = fc.constantFrom(...VOLUME_NAMES.slice(0, 3)).map((name) => ({
  name,
  server: 'nfs.example.com',
  path: `/exports/${name}`,
  capacity: { storage: '1Gi' },
}));

const spec = fc.record({
  minReplicas: opt(fc.constantFrom(0, 1, 3, 5), 0.3),
  maxReplicas: opt(fc.constantFrom(1, 2, 5, 50), 0.3),
  scaleMetric: opt(fc.constantFrom('concurrency', 'rps', 'cpu', 'memory'), 0.3),
  routeSpec: opt(
    fc
      .record({
        routeTimeoutSeconds: opt(fc.constantFrom(0, 30, 600, 900), 0.4),
        hostname: opt(fc.constantFrom('shop', 'shop.apps.example.com'), 0.3),
        trafficTarget: opt(
          fc.constantFrom<Obj>(
            { latestRevision: true },
            { latestRevision: true, percent: 50 },
            { latestRevision: true, tag: 'v2' },
            { latestRevision: true, tag: 'Bad_Tag' },
            { revisionName: 'shop-00001' },
            { revisionName: 'shop-00001', latestRevision: true },
            { configurationName: 'shop' },
            {},
          ),
          0.3,
        ),
      })
      .map(defined),
    0.4,
  ),
  volumesSpec: opt(fc.record({ nfsVolumes: fc.array(nfsVolume, { minLength: 1, maxLength: 2 }) }), 0.15),
});

/**
 * Mounts name a defined volume (pod or NFS) and every volume is mounted, each with probability 0.9:
 * a user mostly gets those right, and the generated Capps should not all break the same rule.
 */
function coherentVolumes(containers: Obj[], pod: Obj, spec: Obj, dice: number[]): void {
  let d = 0;
  const roll = (): number => dice[d++ % dice.length] as number;
  const nfs = ((spec['volumesSpec'] as Obj | undefined)?.['nfsVolumes'] as Obj[] | undefined) ?? [];
  const names = [...((pod['volumes'] as Obj[] | undefined) ?? []), ...nfs].map((v) => v['name'] as string);
  containers.forEach((ctr, i) => {
    const mounts = (ctr['volumeMounts'] as Obj[] | undefined) ?? [];
    if (names.length === 0 && roll() < 90) delete ctr['volumeMounts'];
    mounts.forEach((m, j) => {
      if (names.length > 0 && roll() < 90) m['name'] = names[roll() % names.length];
      // Distinct paths, mostly: the same path twice is a mistake of its own.
      if (
        typeof m['mountPath'] === 'string' &&
        (m['mountPath'] as string).startsWith('/m') === false &&
        roll() < 90
      )
        m['mountPath'] = `${m['mountPath'] as string}/${i}-${j}`.replace('//', '/');
    });
    // Distinct container names, mostly.
    if (typeof ctr['name'] === 'string' && i > 0 && roll() < 90)
      ctr['name'] = `${ctr['name'] as string}-${i}`;
  });
  const first = containers[0] as Obj;
  const mounted = new Set(
    containers.flatMap((c) => ((c['volumeMounts'] as Obj[] | undefined) ?? []).map((m) => m['name'])),
  );
  for (const name of new Set(names)) {
    if (mounted.has(name) || roll() >= 90) continue;
    const mounts = ((first['volumeMounts'] as Obj[] | undefined) ?? []).slice();
    mounts.push({ name, mountPath: `/mnt/${name}-${mounts.length}` });
    first['volumeMounts'] = mounts;
  }
}

/** A structurally valid Capp with Knative-facing parts near the rules' edges. */
export const cappArbitrary: fc.Arbitrary<Obj> = fc
  .record({
    containers: fc.oneof(
      { weight: 4, arbitrary: fc.array(container(undefined), { minLength: 1, maxLength: 1 }) },
      { weight: 1, arbitrary: fc.tuple(container(true), container(false)).map(([a, b]) => [a, b]) },
      { weight: 1, arbitrary: fc.array(container(undefined), { minLength: 2, maxLength: 3 }) },
    ),
    /** Dice for making mounts and volumes agree (most of the time, as a user would write them). */
    dice: fc.array(fc.nat(99), { minLength: 16, maxLength: 16 }),
    pod: podFields.map(defined),
    templateAnnotations: opt(annotations, 0.35),
    templateName: opt(fc.constantFrom('shop-v1', 'v1', 'shop-V1'), 0.04),
    cappAnnotations: opt(
      fc.constantFrom<Obj>(
        { 'autoscaling.knative.dev/min-scale': '1' },
        { 'serving.knative.dev/rollout-duration': '30s' },
        { 'serving.knative.dev/rollout-duration': 'soon' },
        { 'example.com/team': 'a' },
      ),
      0.08,
    ),
    spec: spec.map(defined),
  })
  .map(({ containers, dice, pod, templateAnnotations, templateName, cappAnnotations, spec: s }) => {
    coherentVolumes(containers, pod, s, dice);
    const metadata = defined({ annotations: templateAnnotations, name: templateName });
    return {
      apiVersion: 'rcs.dana.io/v1alpha1',
      kind: 'Capp',
      metadata: defined({ name: 'shop', namespace: 'team-a', annotations: cappAnnotations }),
      spec: {
        configurationSpec: {
          template: {
            ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
            spec: { ...pod, containers },
          },
        },
        ...s,
      },
    };
  });
