/**
 * Knative Serving's admission rules (knative.dev/serving v0.49: the defaulting, then `Validate`, of a
 * Service), applied to the parts of a Capp that become its Knative Service and reported at the Capp's
 * own field paths. A Capp these rules accept renders a Knative Service that Serving admits; one they
 * refuse would be a Service the operator can never apply. Proven against Serving's own code by the
 * differential test (tools/knative/differential.spec.ts, docs/knative-admission.md).
 *
 * Serving defaults before it validates, so these rules judge the defaulted values: the request
 * timeout (0 = the cluster default), container names, the user container's readiness probe, and
 * read-only mounts of volumes that are neither emptyDir nor PVC.
 */
import { isPlainObject } from '../schema/nodes';
import type { ValidationIssue } from '../schema/validate';
import { parseGoDuration, SECOND } from './duration';
import {
  CONTAINER_MASK,
  CONTAINER_PORT_MASK,
  CONTAINER_SECURITY_CONTEXT_MASK,
  ENV_FROM_MASK,
  ENV_VAR_SOURCE_MASK,
  type FieldMask,
  POD_SECURITY_CONTEXT_MASK,
  POD_SPEC_MASK,
  RESOURCES_MASK,
  VOLUME_MOUNT_MASK,
  VOLUME_PROJECTION_MASK,
  VOLUME_SOURCE_MASK,
} from './fields';
import { enabled, FEATURE, type KnativeSettings, notDisabled, PLATFORM_KNATIVE_SETTINGS } from './settings';

type Obj = Record<string, unknown>;

const TEMPLATE = 'spec.configurationSpec.template';
const POD = `${TEMPLATE}.spec`;
const TEMPLATE_ANNOTATIONS = `${TEMPLATE}.metadata.annotations`;

const RESERVED_PATHS = new Set(['/', '/dev', '/dev/log']);
const RESERVED_CONTAINER_NAMES = new Set(['queue-proxy']);
const RESERVED_ENV = new Set(['PORT', 'K_SERVICE', 'K_CONFIGURATION', 'K_REVISION']);
const RESERVED_SIDECAR_ENV = new Set(['K_SERVICE', 'K_CONFIGURATION', 'K_REVISION']);
/** queue-proxy's and the profiler's ports (8012, 8013, 8022, 9090, 9091, 8008). */
export const RESERVED_PORTS: ReadonlySet<number> = new Set([8012, 8013, 8022, 9090, 9091, 8008]);
const PORT_NAMES = new Set(['', 'h2c', 'http1']);
const INT32_MAX = 2147483647;

const AUTOSCALING = 'autoscaling.knative.dev';
const KPA = 'kpa.autoscaling.knative.dev';
const HPA = 'hpa.autoscaling.knative.dev';
const NETWORKING_ALLOWED = new Set(
  [
    'ingress.class',
    'certificate.class',
    'disableAutoTLS',
    'disable-external-domain-tls',
    'httpOption',
    'ingress-class',
    'certificate-class',
    'disable-auto-tls',
    'http-protocol',
  ].map((k) => `networking.knative.dev/${k}`),
);

const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

const obj = (v: unknown): Obj | undefined => (isPlainObject(v) ? v : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const at = (base: string, key: string | number): string =>
  typeof key === 'number' ? `${base}[${key}]` : `${base}.${key}`;
/** Map keys (annotations) as Kubernetes prints them: `annotations[autoscaling.knative.dev/window]`. */
const keyAt = (base: string, key: string): string => `${base}[${key}]`;

/** Go's "set" (what a field mask compares): not the zero value, or for a pointer field, present. */
function isSet(value: unknown, pointer: boolean): boolean {
  if (value === undefined || value === null) return false;
  if (pointer) return true;
  return value !== false && value !== 0 && value !== '';
}

const dns1035 = (s: string): boolean => s.length <= 63 && DNS1035_LABEL.test(s);
const dns1123Label = (s: string): boolean => s.length <= 63 && DNS1123_LABEL.test(s);
const dns1123Subdomain = (s: string): boolean => s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
const qualifiedName = (s: string): boolean => {
  const slash = s.lastIndexOf('/');
  const [prefix, name] = slash >= 0 ? [s.slice(0, slash), s.slice(slash + 1)] : ['', s];
  if (slash >= 0 && (prefix === '' || !dns1123Subdomain(prefix))) return false;
  return name.length <= 63 && QUALIFIED_NAME.test(name);
};

/** go-containerregistry's `name.ParseReference(s, name.WeakValidation)`, which Serving uses. */
export function isImageReference(image: string): boolean {
  const digestAt = image.indexOf('@');
  let rest = image;
  if (digestAt >= 0) {
    const digest = image.slice(digestAt + 1);
    if (!/^sha256:[a-f0-9]{64}$/.test(digest)) return false;
    rest = image.slice(0, digestAt);
  } else {
    const lastColon = image.lastIndexOf(':');
    if (lastColon > image.lastIndexOf('/')) {
      // Weak validation: an empty tag is the default one.
      const tag = image.slice(lastColon + 1);
      if (tag !== '' && !/^[\w][\w.-]{0,127}$/.test(tag)) return false;
      rest = image.slice(0, lastColon);
    }
  }
  const parts = rest.split('/');
  const first = parts[0] ?? '';
  const hasRegistry =
    parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasRegistry) {
    if (!/^[A-Za-z0-9.-]+(:\d+)?$/.test(first) && !/^\[[0-9a-fA-F:]+\](:\d+)?$/.test(first)) return false;
    parts.shift();
  }
  if (parts.length === 0) return false;
  const repo = parts.join('/');
  // go-containerregistry: a repository of 2 to 255 characters ("a" is refused, "ab" is not).
  if (repo.length < 2 || repo.length > 255) return false;
  return parts.every((c) => /^[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*$/.test(c));
}

/** Knative's rules, collected with the Capp field path each one names. */
class Collector {
  readonly issues: ValidationIssue[] = [];
  constructor(readonly settings: KnativeSettings) {}

  add(path: string, rule: string, message: string): void {
    this.issues.push({ path, rule, message });
  }

  /** Serving's field masks: set fields the mask (and its feature flags) refuses. */
  mask(value: Obj | undefined, mask: FieldMask, base: string, override: Record<string, boolean> = {}): void {
    if (!value) return;
    for (const [field, fieldValue] of Object.entries(value)) {
      const allowance = mask[field];
      if (allowance === undefined || allowance === true) {
        if (override[field] === false && isSet(fieldValue, true)) this.disallowed(base, field);
        continue;
      }
      if (allowance === false || allowance === 'pointer') {
        if (isSet(fieldValue, allowance === 'pointer')) this.disallowed(base, field);
        continue;
      }
      if (isSet(fieldValue, allowance.pointer ?? false) && !notDisabled(this.settings, allowance.feature)) {
        this.add(
          at(base, field),
          'knative.featureDisabled',
          `must not set the field(s): ${field} is off in this cluster's Knative (config-features ${allowance.feature}: disabled)`,
        );
      }
    }
  }

  private disallowed(base: string, field: string): void {
    this.add(
      at(base, field),
      'knative.disallowedField',
      `must not set the field(s): Knative Serving does not allow ${field} here`,
    );
  }
}

/**
 * The Knative rules a Capp breaks, at its own field paths. Expects a Capp that passed the structural
 * schema (`validateCapp` runs these only then); `settings` are the cluster's (features, timeouts,
 * autoscaler limits), by default what a Capp platform's Serving runs with.
 */
export function knativeIssues(
  capp: unknown,
  settings: KnativeSettings = PLATFORM_KNATIVE_SETTINGS,
): ValidationIssue[] {
  const c = new Collector(settings);
  const root = obj(capp) ?? {};
  const metadata = obj(root['metadata']) ?? {};
  const spec = obj(root['spec']) ?? {};
  serviceMetadata(c, metadata);
  const template = obj(obj(spec['configurationSpec'])?.['template']) ?? {};
  templateMetadata(c, obj(template['metadata']) ?? {}, str(metadata['name']), spec);
  const pod = obj(template['spec']) ?? {};
  revisionSpec(c, pod, spec);
  podSpec(c, pod, spec);
  traffic(c, obj(obj(spec['routeSpec'])?.['trafficTarget']));
  return c.issues;
}

// ---------------------------------------------------------------------------------------------
// metadata

/** The Capp's metadata, copied to the Knative Service's (its name is the structural schema's). */
function serviceMetadata(c: Collector, metadata: Obj): void {
  const annotations = obj(metadata['annotations']) ?? {};
  for (const key of Object.keys(annotations)) {
    if (key.startsWith(AUTOSCALING))
      c.add(
        keyAt('metadata.annotations', key),
        'knative.autoscalingAnnotationPlacement',
        `autoscaling annotations must be put under "${TEMPLATE_ANNOTATIONS}" to work (Knative refuses them on the Service)`,
      );
    if (key === 'serving.knative.dev/creator' || key === 'serving.knative.dev/lastModifier')
      c.add(
        keyAt('metadata.annotations', key),
        'knative.reservedAnnotation',
        'is written by Knative Serving (the writer of the Knative Service) and cannot be set',
      );
  }
  durationAnnotation(
    c,
    annotations,
    'metadata.annotations',
    ['serving.knative.dev/rollout-duration', 'serving.knative.dev/rolloutDuration'],
    'rollout-duration',
  );
}

/** The first present key of a Knative key-priority list (new spelling first), with its value. */
function getPriority(m: Obj, keys: readonly string[]): [string, string] | undefined {
  for (const k of keys) if (typeof m[k] === 'string') return [k, m[k] as string];
  return undefined;
}

function durationAnnotation(
  c: Collector,
  m: Obj,
  base: string,
  keys: readonly string[],
  label: string,
): void {
  const found = getPriority(m, keys);
  if (!found || found[1] === '') return;
  const [k, v] = found;
  const d = parseGoDuration(v);
  if (d === undefined)
    c.add(keyAt(base, k), 'knative.annotation', `invalid value: ${v} (a duration such as 90s or 2m)`);
  else if (Math.round(d / SECOND) * SECOND !== d)
    c.add(keyAt(base, k), 'knative.annotation', `${label}=${v} is not at second precision`);
  else if (d < 0) c.add(keyAt(base, k), 'knative.annotation', `${label}=${v} must be positive`);
}

/** The annotations the revision template gets: the Capp's autoscaling fields, then the user's own. */
function effectiveAnnotations(user: Obj, spec: Obj): { values: Obj; source: (key: string) => string } {
  const generated: Record<string, [string, string]> = {};
  const metric = str(spec['scaleMetric']) || 'concurrency';
  generated[`${AUTOSCALING}/class`] = [
    metric === 'cpu' || metric === 'memory' ? HPA : KPA,
    'spec.scaleMetric',
  ];
  generated[`${AUTOSCALING}/metric`] = [metric, 'spec.scaleMetric'];
  if (num(spec['minReplicas']) !== undefined)
    generated[`${AUTOSCALING}/min-scale`] = [String(spec['minReplicas']), 'spec.minReplicas'];
  if (num(spec['maxReplicas']) !== undefined)
    generated[`${AUTOSCALING}/max-scale`] = [String(spec['maxReplicas']), 'spec.maxReplicas'];
  const legacy: Record<string, string> = {
    [`${AUTOSCALING}/min-scale`]: `${AUTOSCALING}/minScale`,
    [`${AUTOSCALING}/max-scale`]: `${AUTOSCALING}/maxScale`,
  };
  const values: Obj = {};
  const sources: Record<string, string> = {};
  for (const [key, [value, source]] of Object.entries(generated)) {
    if (key in user || (legacy[key] !== undefined && legacy[key] in user)) continue;
    values[key] = value;
    sources[key] = source;
  }
  Object.assign(values, user);
  return { values, source: (key) => sources[key] ?? keyAt(TEMPLATE_ANNOTATIONS, key) };
}

function templateMetadata(c: Collector, meta: Obj, cappName: string, spec: Obj): void {
  const generateName = str(meta['generateName']);
  if (generateName !== '' && !DNS1035_LABEL.test(`${generateName}a`))
    c.add(`${TEMPLATE}.metadata.generateName`, 'knative.revisionName', 'not a DNS 1035 label prefix');
  const name = str(meta['name']);
  if (name !== '') {
    if (!dns1035(name))
      c.add(
        `${TEMPLATE}.metadata.name`,
        'knative.revisionName',
        'not a DNS 1035 label (it names a Knative Revision)',
      );
    else if (cappName !== '' && !name.startsWith(`${cappName}-`))
      c.add(`${TEMPLATE}.metadata.name`, 'knative.revisionName', `"${name}" must have prefix "${cappName}-"`);
  }
  const { values, source } = effectiveAnnotations(obj(meta['annotations']) ?? {}, spec);
  autoscalingAnnotations(c, values, source);
  for (const key of Object.keys(values)) {
    if (key.startsWith('networking.knative.dev') && !NETWORKING_ALLOWED.has(key))
      c.add(source(key), 'knative.annotation', `invalid key name "${key}"`);
  }
  const pct = getPriority(values, [
    'queue.sidecar.serving.knative.dev/resource-percentage',
    'queue.sidecar.serving.knative.dev/resourcePercentage',
  ]);
  if (pct) {
    const v = Number(pct[1]);
    if (pct[1].trim() === '' || !Number.isFinite(v))
      c.add(source(pct[0]), 'knative.annotation', `invalid value: ${pct[1]}`);
    else if (v < 0.1 || v > 100)
      c.add(source(pct[0]), 'knative.annotation', `expected 0.1 <= ${pct[1]} <= 100`);
  }
  for (const res of ['cpu', 'memory', 'ephemeral-storage'])
    for (const kind of ['request', 'limit']) {
      const key = `queue.sidecar.serving.knative.dev/${res}-resource-${kind}`;
      const v = values[key];
      if (typeof v === 'string' && !isQuantity(v))
        c.add(source(key), 'knative.annotation', `invalid value: ${v} (a quantity such as 100m or 64Mi)`);
    }
  durationAnnotation(
    c,
    values,
    TEMPLATE_ANNOTATIONS,
    ['serving.knative.dev/progress-deadline'],
    'progress-deadline',
  );
}

const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?\d+)?$/;
const isQuantity = (s: string): boolean => QUANTITY.test(s);

function parseGoInt(v: string): number | undefined {
  return /^[+-]?\d+$/.test(v) ? Number(v) : undefined;
}

function parseGoFloat(v: string): number | undefined {
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(v) && !/^[+-]?(inf|infinity|nan)$/i.test(v))
    return undefined;
  return Number(v.replace(/inf(inity)?/i, 'Infinity'));
}

function autoscalingAnnotations(c: Collector, m: Obj, source: (key: string) => string): void {
  const A = (k: string): string => `${AUTOSCALING}/${k}`;
  const bad = (key: string, message: string): void => c.add(source(key), 'knative.autoscaling', message);
  const get = (...keys: string[]): [string, string] | undefined => getPriority(m, keys.map(A));

  const cls = get('class');
  if (cls && cls[1].endsWith(AUTOSCALING) && cls[1] !== KPA && cls[1] !== HPA)
    bad(cls[0], `invalid value: ${cls[1]}`);

  const intGE0 = (found: [string, string] | undefined): number => {
    if (!found) return 0;
    const i = parseGoInt(found[1]);
    if (i === undefined) bad(found[0], `invalid value: ${found[1]}`);
    else if (i > INT32_MAX || i < 0) bad(found[0], `expected 0 <= ${found[1]} <= ${INT32_MAX}`);
    else return i;
    return 0;
  };
  const minFound = get('min-scale', 'minScale');
  const maxFound = get('max-scale', 'maxScale');
  const min = intGE0(minFound);
  const max = intGE0(maxFound);
  if (max !== 0 && max < min && maxFound) bad(maxFound[0], `max-scale=${max} is less than min-scale=${min}`);
  const limit = c.settings.maxScaleLimit;
  if (maxFound && limit !== 0) {
    if (max > limit) bad(maxFound[0], `expected 1 <= ${max} <= ${limit} (max-scale-limit of this cluster)`);
    if (max === 0) bad(maxFound[0], `max-scale=0 (unlimited), must be less than ${limit}`);
  }
  const activation = get('activation-scale');
  if (activation) {
    const a = parseGoInt(activation[1]);
    if (a === undefined || a > INT32_MAX || a < -INT32_MAX - 1)
      bad(activation[0], `invalid value: ${activation[1]}`);
    else if (min > a) bad(activation[0], `min-scale=${min} is greater than activation-scale=${a}`);
    else if (max < a && max !== 0) bad(activation[0], `max-scale=${max} is less than activation-scale=${a}`);
    else if (a < 2) bad(activation[0], `activation-scale=${a} must be greater than 1`);
  }

  const float = (keys: string[], check: (v: number) => string | undefined): void => {
    const found = get(...keys);
    if (!found) return;
    const v = parseGoFloat(found[1]);
    if (v === undefined) return bad(found[0], `invalid value: ${found[1]}`);
    const problem = check(v);
    if (problem) bad(found[0], problem);
  };
  float(['panic-window-percentage', 'panicWindowPercentage'], (v) =>
    v < 1 || v > 100 || Number.isNaN(v) ? `expected 1 <= ${v} <= 100` : undefined,
  );
  float(['panic-threshold-percentage', 'panicThresholdPercentage'], (v) =>
    v < 110 || v > 1000 || Number.isNaN(v) ? `expected 110 <= ${v} <= 1000` : undefined,
  );
  float(['target'], (v) => (v < 0.01 ? `target ${v} should be at least 0.01` : undefined));
  float(['target-utilization-percentage', 'targetUtilizationPercentage'], (v) =>
    v < 1 || v > 100 ? `expected 1 <= ${v} <= 100` : undefined,
  );
  float(['target-burst-capacity', 'targetBurstCapacity'], (v) =>
    v < 0 && v !== -1 ? `invalid value: ${v} (at least 0, or -1 for unlimited)` : undefined,
  );

  const window = get('window');
  if (window) {
    const d = parseGoDuration(window[1]);
    if (d === undefined) bad(window[0], `invalid value: ${window[1]}`);
    else if (d < 6 * SECOND || d > 3600 * SECOND) bad(window[0], `expected 6s <= ${window[1]} <= 1h0m0s`);
    else if (Math.trunc(d / SECOND) * SECOND !== d)
      bad(window[0], 'must be specified with at most second precision');
  }
  const retention = get('scale-to-zero-pod-retention-period', 'scaleToZeroPodRetentionPeriod');
  if (retention) {
    const d = parseGoDuration(retention[1]);
    if (d === undefined) bad(retention[0], `invalid value: ${retention[1]}`);
    else if (d < 0 || d > 3600 * SECOND) bad(retention[0], `expected 0s <= ${retention[1]} <= 1h0m0s`);
  }
  const delay = get('scale-down-delay', 'scaleDownDelay');
  if (delay) {
    const d = parseGoDuration(delay[1]);
    if (d === undefined) bad(delay[0], `invalid value: ${delay[1]}`);
    else if (d < 0 || d > 3600 * SECOND) bad(delay[0], `expected 0s <= ${delay[1]} <= 1h0m0s`);
    else if (Math.round(d / SECOND) * SECOND !== d)
      bad(delay[0], 'must be specified with at most second precision');
  }
  const metric = get('metric');
  if (metric) {
    const klass = cls ? cls[1] : c.settings.podAutoscalerClass;
    const ok =
      klass === KPA
        ? metric[1] === 'concurrency' || metric[1] === 'rps'
        : klass === HPA
          ? metric[1] !== ''
          : true;
    if (!ok)
      bad(
        metric[0],
        `invalid value: ${metric[1]} (the ${klass === KPA ? 'KPA takes concurrency or rps' : 'HPA takes a metric name'})`,
      );
  }
  if (cls?.[1] === KPA) {
    const algorithm = get('metric-aggregation-algorithm', 'metricAggregationAlgorithm');
    if (
      algorithm &&
      algorithm[1] !== '' &&
      !['linear', 'weighted-exponential', 'weightedExponential'].includes(algorithm[1])
    )
      bad(algorithm[0], `invalid value: ${algorithm[1]}`);
  }
  const initial = get('initial-scale', 'initialScale');
  if (initial) {
    const i = parseGoInt(initial[1]);
    if (i === undefined) bad(initial[0], `invalid value: ${initial[1]}`);
    else if (i < 0) bad(initial[0], `invalid value: ${initial[1]} (must be greater than 0)`);
    else if (i === 0 && !c.settings.allowZeroInitialScale)
      bad(
        initial[0],
        'invalid value: 0 (initial-scale=0 not allowed by cluster: allow-zero-initial-scale is off)',
      );
  }
}

// ---------------------------------------------------------------------------------------------
// revision spec

function revisionSpec(c: Collector, pod: Obj, spec: Obj): void {
  const routeTimeout = num(obj(spec['routeSpec'])?.['routeTimeoutSeconds']);
  const [timeout, timeoutPath] =
    routeTimeout !== undefined
      ? [routeTimeout, 'spec.routeSpec.routeTimeoutSeconds']
      : [num(pod['timeoutSeconds']), `${POD}.timeoutSeconds`];
  const max = c.settings.maxRevisionTimeoutSeconds;
  if (timeout !== undefined && timeout !== 0 && (timeout > max || timeout < 0))
    c.add(
      timeoutPath,
      'knative.timeoutSeconds',
      `expected 0 <= ${timeout} <= ${max} (max-revision-timeout-seconds of this cluster)`,
    );
  const concurrency = num(pod['containerConcurrency']);
  if (concurrency !== undefined) {
    const lo = c.settings.allowContainerConcurrencyZero ? 0 : 1;
    const hi = c.settings.containerConcurrencyMaxLimit;
    if (concurrency < lo || concurrency > hi)
      c.add(
        `${POD}.containerConcurrency`,
        'knative.containerConcurrency',
        `expected ${lo} <= ${concurrency} <= ${hi}`,
      );
  }
}

// ---------------------------------------------------------------------------------------------
// pod spec

interface Volume {
  value: Obj;
  path: string;
  /** An NFS volume of the Capp (a PVC volume in the Knative Service). */
  nfs: boolean;
}

/** The pod's volumes as rendered: the user's, an NFS volume replacing a user volume of its name. */
function effectiveVolumes(pod: Obj, spec: Obj): Volume[] {
  const nfs = arr(obj(spec['volumesSpec'])?.['nfsVolumes']).map(obj);
  const nfsNames = new Set(nfs.map((v) => str(v?.['name'])));
  const user = arr(pod['volumes'])
    .map((v, i) => ({ value: obj(v) ?? {}, path: at(`${POD}.volumes`, i), nfs: false }))
    .filter((v) => nfs.length === 0 || !nfsNames.has(str(v.value['name'])));
  return [
    ...user,
    ...nfs.map((v, i) => ({
      value: { name: str(v?.['name']), persistentVolumeClaim: { claimName: 'nfs' } },
      path: at('spec.volumesSpec.nfsVolumes', i),
      nfs: true,
    })),
  ];
}

function podSpec(c: Collector, pod: Obj, spec: Obj): void {
  const s = c.settings;
  const secure = s.securePodDefaults !== 'Disabled';
  c.mask(pod, POD_SPEC_MASK, POD, {
    automountServiceAccountToken: pod['automountServiceAccountToken'] !== true,
  });
  const sc = pod['securityContext'];
  if (sc !== undefined && sc !== null && !notDisabled(s, FEATURE.securityContext) && !secure)
    c.add(
      `${POD}.securityContext`,
      'knative.featureDisabled',
      `must not set the field(s): securityContext is off in this cluster's Knative (config-features ${FEATURE.securityContext}: disabled)`,
    );
  else podSecurityContext(c, obj(sc), `${POD}.securityContext`);

  const containers = arr(pod['containers']).map((x) => obj(x) ?? {});
  const initContainers = arr(pod['initContainers']).map((x) => obj(x) ?? {});
  const volumes = effectiveVolumes(pod, spec);
  const byName = new Map<string, Volume>();
  const mounted = new Set(
    [...initContainers, ...containers].flatMap((ctr) =>
      arr(ctr['volumeMounts']).map((m) => str(obj(m)?.['name'])),
    ),
  );
  for (const v of volumes) {
    const name = str(v.value['name']);
    const namePath = v.nfs ? `${v.path}.name` : `${v.path}.name`;
    if (byName.has(name)) c.add(namePath, 'knative.volumes', `duplicate volume name "${name}"`);
    if (!mounted.has(name))
      c.add(
        namePath,
        'knative.volumeNotMounted',
        `volume with name "${name}" not mounted: Knative requires every volume to be mounted by a container (volumeMounts)`,
      );
    volume(c, v);
    byName.set(name, v);
  }

  // Container names as Serving defaults them ("user-container", "user-container-0", …).
  const names = new Set([...containers, ...initContainers].map((ctr) => str(ctr['name'])));
  if (initContainers.length > 0) {
    if (!enabled(s, FEATURE.initContainers)) {
      c.add(
        `${POD}.initContainers`,
        'knative.featureDisabled',
        `pod spec support for init-containers is off (config-features ${FEATURE.initContainers}), but found ${initContainers.length} init containers`,
      );
    } else {
      const containerNames = new Set(containers.map((ctr) => str(ctr['name'])).filter((n) => n !== ''));
      initContainers.forEach((ctr, i) => {
        const path = at(`${POD}.initContainers`, i);
        const name = str(ctr['name']);
        if (name !== '' && containerNames.has(name))
          c.add(`${path}.name`, 'knative.containerName', `duplicate container name "${name}"`);
        for (const f of ['livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle'])
          if (ctr[f] !== undefined && ctr[f] !== null)
            c.add(at(path, f), 'knative.initContainer', 'field not allowed in an init container');
        container(c, ctr, path, byName, 'init');
      });
    }
  }
  void names;

  // The one port, across all containers.
  let portCount = 0;
  let port: Obj = {};
  for (const ctr of containers) {
    const ports = arr(ctr['ports']);
    if (ports.length > 0) {
      portCount += ports.length;
      port = obj(ports[0]) ?? {};
    }
  }
  const portName = str(port['name']) || 'http';
  if (portCount === 0 && containers.length > 1)
    c.add(
      `${POD}.containers`,
      'knative.containerPort',
      'missing field(s): ports — with several containers, exactly one (the one serving requests) declares the port',
    );
  if (portCount > 1)
    c.add(
      `${POD}.containers`,
      'knative.containerPort',
      'more than one container port is set: only a single port is allowed across all containers',
    );

  if (containers.length === 1) {
    userContainer(c, containers[0] as Obj, at(`${POD}.containers`, 0), byName, portName);
  } else if (containers.length > 1) {
    if (!enabled(s, FEATURE.multiContainer)) {
      c.add(
        `${POD}.containers`,
        'knative.featureDisabled',
        `multi-container is off, but found ${containers.length} containers`,
      );
    } else {
      const seen = new Set<string>();
      containers.forEach((ctr, i) => {
        const path = at(`${POD}.containers`, i);
        const name = str(ctr['name']);
        if (name !== '' && seen.has(name))
          c.add(`${path}.name`, 'knative.containerName', `duplicate container name "${name}"`);
        seen.add(name);
        if (arr(ctr['ports']).length === 0) sidecarContainer(c, ctr, path, byName);
        else userContainer(c, ctr, path, byName, portName);
      });
    }
  }
  const sa = str(pod['serviceAccountName']);
  if (sa !== '' && !dns1123Subdomain(sa))
    c.add(
      `${POD}.serviceAccountName`,
      'knative.serviceAccountName',
      `invalid value: ${sa} (a DNS-1123 subdomain)`,
    );
}

function podSecurityContext(c: Collector, sc: Obj | undefined, path: string): void {
  if (!sc) return;
  const s = c.settings;
  if (!notDisabled(s, FEATURE.securityContext)) {
    // Only a RuntimeDefault/Unconfined seccompProfile (podSpec has checked secure-pod-defaults is on).
    const secure = true;
    for (const [field, value] of Object.entries(sc)) {
      if (!isSet(value, field !== 'supplementalGroups')) continue;
      const seccompType = str(obj(sc['seccompProfile'])?.['type']);
      if (
        field === 'seccompProfile' &&
        secure &&
        (seccompType === 'RuntimeDefault' || seccompType === 'Unconfined')
      ) {
        if (Object.keys(obj(value) ?? {}).some((k) => k !== 'type'))
          c.add(
            at(path, field),
            'knative.featureDisabled',
            `must not set the field(s): only seccompProfile.type (config-features ${FEATURE.securityContext}: disabled)`,
          );
        continue;
      }
      c.add(
        at(path, field),
        'knative.featureDisabled',
        `must not set the field(s): ${field} is off in this cluster's Knative (config-features ${FEATURE.securityContext}: disabled)`,
      );
    }
  } else {
    c.mask(sc, POD_SECURITY_CONTEXT_MASK, path);
  }
  for (const f of ['runAsUser', 'runAsGroup', 'fsGroup']) idRange(c, sc[f], at(path, f));
  arr(sc['supplementalGroups']).forEach((g, i) => idRange(c, g, at(`${path}.supplementalGroups`, i)));
}

function idRange(c: Collector, value: unknown, path: string): void {
  const v = num(value);
  if (v !== undefined && (v < 0 || v > INT32_MAX))
    c.add(path, 'knative.securityContext', `expected 0 <= ${v} <= ${INT32_MAX}`);
}

function volume(c: Collector, v: Volume): void {
  const s = c.settings;
  const value = v.value;
  const path = v.path;
  const name = str(value['name']);
  const pvc = obj(value['persistentVolumeClaim']);
  const srcPath = (field: string): string => (v.nfs ? path : at(path, field));
  if (pvc) {
    if (!enabled(s, FEATURE.pvc))
      c.add(
        srcPath('persistentVolumeClaim'),
        'knative.featureDisabled',
        `Persistent volume claim support is disabled (config-features ${FEATURE.pvc}), but found persistent volume claim ${str(pvc['claimName'])}`,
      );
    if (pvc['readOnly'] !== true && !enabled(s, FEATURE.pvcWrite))
      c.add(
        srcPath('persistentVolumeClaim'),
        'knative.featureDisabled',
        `Persistent volume write support is disabled (config-features ${FEATURE.pvcWrite}), but found persistent volume claim ${str(pvc['claimName'])} that is not read-only`,
      );
  }
  const gatedSources: [string, (typeof FEATURE)[keyof typeof FEATURE], string][] = [
    ['image', FEATURE.imageVolume, 'Image'],
    ['emptyDir', FEATURE.emptyDir, 'EmptyDir'],
    ['hostPath', FEATURE.hostPath, 'HostPath'],
    ['csi', FEATURE.csi, 'CSI'],
  ];
  for (const [field, feature, label] of gatedSources)
    if (value[field] !== undefined && value[field] !== null && !enabled(s, feature))
      c.add(
        at(path, field),
        'knative.featureDisabled',
        `${label} volume support is disabled (config-features ${feature}), but found ${label} volume ${name}`,
      );
  if (v.nfs) {
    if (!dns1123Label(name))
      c.add(`${path}.name`, 'knative.volumeName', `invalid value: ${name} (a DNS-1123 label)`);
    return;
  }
  const { name: _name, ...sources } = value;
  void _name;
  c.mask(sources, VOLUME_SOURCE_MASK, path);
  if (name === '') c.add(`${path}.name`, 'knative.volumeName', 'missing field(s)');
  else if (!dns1123Label(name))
    c.add(`${path}.name`, 'knative.volumeName', `invalid value: ${name} (a DNS-1123 label)`);
  const known = [
    'secret',
    'configMap',
    'projected',
    'emptyDir',
    'persistentVolumeClaim',
    'hostPath',
    'csi',
    'image',
  ];
  const specified = known.filter((k) => value[k] !== undefined && value[k] !== null);
  for (const k of ['secret', 'configMap']) {
    const items = arr(obj(value[k])?.['items']);
    items.forEach((item, i) => keyToPath(c, obj(item) ?? {}, at(`${path}.${k}.items`, i)));
  }
  const projected = obj(value['projected']);
  if (projected)
    arr(projected['sources']).forEach((p, i) =>
      projection(c, obj(p) ?? {}, at(`${path}.projected.sources`, i)),
    );
  const emptyDir = obj(value['emptyDir']);
  if (emptyDir) {
    const medium = str(emptyDir['medium']);
    if (medium !== '' && medium !== 'Memory')
      c.add(`${path}.emptyDir.medium`, 'knative.volumes', `invalid value: ${medium} ("" or Memory)`);
    const size = emptyDir['sizeLimit'];
    if ((typeof size === 'string' && size.trim().startsWith('-')) || (typeof size === 'number' && size < 0))
      c.add(`${path}.emptyDir.sizeLimit`, 'knative.volumes', `invalid value: ${String(size)}`);
  }
  const image = obj(value['image']);
  if (image) {
    if (str(image['reference']) === '')
      c.add(`${path}.image.reference`, 'knative.volumes', 'missing field(s)');
    const policy = str(image['pullPolicy']);
    if (!['', 'IfNotPresent', 'Always', 'Never'].includes(policy))
      c.add(`${path}.image.pullPolicy`, 'knative.volumes', `invalid value: ${policy}`);
  }
  if (specified.length === 0) {
    const options = ['secret', 'configMap', 'projected'];
    if (enabled(s, FEATURE.emptyDir)) options.push('emptyDir');
    if (enabled(s, FEATURE.pvc)) options.push('persistentVolumeClaim');
    if (enabled(s, FEATURE.hostPath)) options.push('hostPath');
    if (enabled(s, FEATURE.csi)) options.push('csi');
    if (enabled(s, FEATURE.imageVolume)) options.push('image');
    c.add(path, 'knative.volumeSource', `expected exactly one, got neither: ${options.join(', ')}`);
  } else if (specified.length > 1) {
    c.add(path, 'knative.volumeSource', `expected exactly one, got both: ${specified.join(', ')}`);
  }
}

function keyToPath(c: Collector, item: Obj, path: string): void {
  if (str(item['key']) === '') c.add(`${path}.key`, 'knative.volumes', 'missing field(s)');
  if (str(item['path']) === '') c.add(`${path}.path`, 'knative.volumes', 'missing field(s)');
}

function projection(c: Collector, p: Obj, path: string): void {
  c.mask(p, VOLUME_PROJECTION_MASK, path);
  const specified = ['secret', 'configMap', 'serviceAccountToken', 'downwardAPI'].filter(
    (k) => p[k] !== undefined && p[k] !== null,
  );
  for (const k of ['secret', 'configMap']) {
    const src = obj(p[k]);
    if (!src) continue;
    if (str(src['name']) === '') c.add(`${path}.${k}.name`, 'knative.volumes', 'missing field(s)');
    arr(src['items']).forEach((item, i) => keyToPath(c, obj(item) ?? {}, at(`${path}.${k}.items`, i)));
  }
  const token = obj(p['serviceAccountToken']);
  if (token && str(token['path']) === '')
    c.add(`${path}.serviceAccountToken.path`, 'knative.volumes', 'missing field(s)');
  const downward = obj(p['downwardAPI']);
  if (downward)
    arr(downward['items']).forEach((raw, i) => {
      const item = obj(raw) ?? {};
      const itemPath = at(`${path}.downwardAPI.items`, i);
      const refs = ['fieldRef', 'resourceFieldRef'].filter((k) => item[k] !== undefined && item[k] !== null);
      if (refs.length === 0)
        c.add(itemPath, 'knative.volumes', 'expected exactly one, got neither: fieldRef, resourceFieldRef');
      if (refs.length === 2)
        c.add(
          itemPath,
          'knative.volumes',
          'Within a single item, cannot set both: resourceFieldRef, fieldRef',
        );
      if (str(item['path']) === '') c.add(`${itemPath}.path`, 'knative.volumes', 'missing field(s)');
    });
  if (specified.length === 0)
    c.add(
      path,
      'knative.volumes',
      'expected exactly one, got neither: secret, configMap, serviceAccountToken, downwardAPI',
    );
  else if (specified.length > 1)
    c.add(path, 'knative.volumes', `expected exactly one, got both: ${specified.join(', ')}`);
}

type ContainerKind = 'user' | 'sidecar' | 'init';

function userContainer(
  c: Collector,
  ctr: Obj,
  path: string,
  volumes: Map<string, Volume>,
  portName: string,
): void {
  // Serving gives the user container a TCP readiness probe when it has none (or one without a handler).
  probe(c, obj(ctr['livenessProbe']), `${path}.livenessProbe`, portName, 'user');
  readinessProbe(
    c,
    withReadinessDefaults(obj(ctr['readinessProbe']) ?? {}, true),
    `${path}.readinessProbe`,
    portName,
    'user',
  );
  container(c, ctr, path, volumes, 'user');
}

function sidecarContainer(c: Collector, ctr: Obj, path: string, volumes: Map<string, Volume>): void {
  const readiness = obj(ctr['readinessProbe']);
  const readinessDefaulted = readiness ? withReadinessDefaults(readiness, false) : undefined;
  if (!enabled(c.settings, FEATURE.multiContainerProbing)) {
    for (const [field, p] of [
      ['livenessProbe', obj(ctr['livenessProbe'])],
      ['readinessProbe', readinessDefaulted],
    ] as const) {
      if (!p) continue;
      const set = Object.entries(p)
        .filter(([, v]) => isSet(v, true))
        .map(([k]) => k);
      if (set.length > 0)
        c.add(
          `${path}.${field}`,
          'knative.sidecarProbe',
          `must not set the field(s): ${set.join(', ')} — probes of a container without the port need config-features ${FEATURE.multiContainerProbing} enabled`,
        );
    }
  } else {
    probe(c, obj(ctr['livenessProbe']), `${path}.livenessProbe`, '', 'sidecar');
    if (readinessDefaulted) readinessProbe(c, readinessDefaulted, `${path}.readinessProbe`, '', 'sidecar');
  }
  container(c, ctr, path, volumes, 'sidecar');
}

/** Serving's defaults of a readiness probe (and, for the user container, its TCP handler). */
function withReadinessDefaults(p: Obj, user: boolean): Obj {
  const out: Obj = { ...p };
  if (user && !['tcpSocket', 'httpGet', 'exec', 'grpc'].some((h) => out[h] !== undefined && out[h] !== null))
    out['tcpSocket'] = {};
  if (!num(out['successThreshold'])) out['successThreshold'] = 1;
  if (num(out['periodSeconds'])) {
    if (!num(out['failureThreshold'])) out['failureThreshold'] = 3;
    if (!num(out['timeoutSeconds'])) out['timeoutSeconds'] = 1;
  }
  return out;
}

function probe(c: Collector, p: Obj | undefined, path: string, portName: string, kind: ContainerKind): void {
  if (!p) return;
  const handlers = ['httpGet', 'tcpSocket', 'exec', 'grpc'].filter(
    (h) => p[h] !== undefined && p[h] !== null,
  );
  for (const h of ['httpGet', 'tcpSocket'] as const) {
    const action = obj(p[h]);
    if (!action) continue;
    const port = action['port'];
    if (kind === 'user') {
      if (typeof port === 'string' && port !== '' && port !== portName)
        c.add(
          `${path}.${h}.port`,
          'knative.probe',
          `invalid value: ${port}: Probe port must match container port (name "${portName}", or a number)`,
        );
    } else if (port === undefined || port === '' || port === 0) {
      c.add(`${path}.${h}.port`, 'knative.probe', 'invalid value: Probe port must be specified');
    }
  }
  if (handlers.length === 0)
    c.add(path, 'knative.probe', 'expected exactly one, got neither: httpGet, tcpSocket, exec, grpc');
  else if (handlers.length > 1)
    c.add(path, 'knative.probe', `expected exactly one, got both: ${handlers.join(', ')}`);
}

function readinessProbe(c: Collector, p: Obj, path: string, portName: string, kind: ContainerKind): void {
  probe(c, p, path, portName, kind);
  const n = (f: string): number => num(p[f]) ?? 0;
  if (n('periodSeconds') < 0)
    c.add(`${path}.periodSeconds`, 'knative.probe', `expected 0 <= ${n('periodSeconds')} <= ${INT32_MAX}`);
  if (n('initialDelaySeconds') < 0)
    c.add(
      `${path}.initialDelaySeconds`,
      'knative.probe',
      `expected 0 <= ${n('initialDelaySeconds')} <= ${INT32_MAX}`,
    );
  if (n('successThreshold') < 1)
    c.add(
      `${path}.successThreshold`,
      'knative.probe',
      `expected 1 <= ${n('successThreshold')} <= ${INT32_MAX}`,
    );
  if (n('periodSeconds') === 0) {
    if (n('failureThreshold') !== 0)
      c.add(
        `${path}.failureThreshold`,
        'knative.probe',
        'failureThreshold is disallowed when periodSeconds is zero',
      );
    if (n('timeoutSeconds') !== 0)
      c.add(
        `${path}.timeoutSeconds`,
        'knative.probe',
        'timeoutSeconds is disallowed when periodSeconds is zero',
      );
  } else {
    if (n('timeoutSeconds') < 1)
      c.add(
        `${path}.timeoutSeconds`,
        'knative.probe',
        `expected 1 <= ${n('timeoutSeconds')} <= ${INT32_MAX}`,
      );
    if (n('failureThreshold') < 1)
      c.add(
        `${path}.failureThreshold`,
        'knative.probe',
        `expected 1 <= ${n('failureThreshold')} <= ${INT32_MAX}`,
      );
  }
}

function container(
  c: Collector,
  ctr: Obj,
  path: string,
  volumes: Map<string, Volume>,
  kind: ContainerKind,
): void {
  if (Object.values(ctr).every((v) => v === undefined || v === null || v === '' || v === false || v === 0)) {
    c.add(path, 'knative.container', 'missing field(s): an empty container');
    return;
  }
  c.mask(ctr, CONTAINER_MASK, path);
  const name = str(ctr['name']);
  if (RESERVED_CONTAINER_NAMES.has(name))
    c.add(`${path}.name`, 'knative.containerName', `"${name}" is a reserved container name`);
  const reservedEnv = kind === 'user' ? RESERVED_ENV : RESERVED_SIDECAR_ENV;
  arr(ctr['env']).forEach((raw, i) => {
    const env = obj(raw) ?? {};
    const envPath = at(`${path}.env`, i);
    const envName = str(env['name']);
    if (envName === '') c.add(`${envPath}.name`, 'knative.env', 'missing field(s)');
    else if (reservedEnv.has(envName))
      c.add(
        `${envPath}.name`,
        'knative.reservedEnv',
        `"${envName}" is a reserved environment variable (Knative sets it)`,
      );
    c.mask(obj(env['valueFrom']), ENV_VAR_SOURCE_MASK, `${envPath}.valueFrom`);
  });
  arr(ctr['envFrom']).forEach((raw, i) => {
    const src = obj(raw) ?? {};
    const srcPath = at(`${path}.envFrom`, i);
    c.mask(src, ENV_FROM_MASK, srcPath);
    const refs = ['configMapRef', 'secretRef'].filter((k) => src[k] !== undefined && src[k] !== null);
    if (refs.length === 2)
      c.add(srcPath, 'knative.envFrom', 'expected exactly one, got both: configMapRef, secretRef');
    if (refs.length === 0)
      c.add(srcPath, 'knative.envFrom', 'expected exactly one, got neither: configMapRef, secretRef');
  });
  const image = str(ctr['image']);
  if (image === '')
    c.add(`${path}.image`, 'knative.image', 'missing field(s): Knative needs an image for every container');
  else if (!isImageReference(image))
    c.add(`${path}.image`, 'knative.image', `Failed to parse image reference "${image}"`);
  const ports = arr(ctr['ports']).map((p) => obj(p) ?? {});
  if (kind === 'init') ports.forEach((p, i) => portBasic(c, p, at(`${path}.ports`, i)));
  else if (ports.length > 0) {
    const first = ports[0] as Obj;
    const portPath = at(`${path}.ports`, 0);
    portBasic(c, first, portPath);
    const protocol = str(first['protocol']);
    if (protocol !== '' && protocol !== 'TCP')
      c.add(
        `${portPath}.protocol`,
        'knative.containerPort',
        `invalid value: ${protocol} (Knative serves TCP)`,
      );
    const name = str(first['name']);
    if (!PORT_NAMES.has(name))
      c.add(
        `${portPath}.name`,
        'knative.portName',
        `Port name ${name} is not allowed: Name must be empty, or one of: 'h2c', 'http1'`,
      );
  }
  c.mask(obj(ctr['resources']), RESOURCES_MASK, `${path}.resources`);
  containerSecurityContext(c, obj(ctr['securityContext']), `${path}.securityContext`);
  const tmp = str(ctr['terminationMessagePolicy']);
  if (!['', 'File', 'FallbackToLogsOnError'].includes(tmp))
    c.add(`${path}.terminationMessagePolicy`, 'knative.container', `invalid value: ${tmp}`);
  volumeMounts(
    c,
    arr(ctr['volumeMounts']).map((m) => obj(m) ?? {}),
    `${path}.volumeMounts`,
    volumes,
  );
}

function portBasic(c: Collector, p: Obj, path: string): void {
  c.mask(p, CONTAINER_PORT_MASK, path);
  const port = num(p['containerPort']) ?? 0;
  if (RESERVED_PORTS.has(port))
    c.add(
      `${path}.containerPort`,
      'knative.reservedPort',
      `${port} is a reserved port (Knative's queue-proxy uses it), please use a different value`,
    );
  if (port < 0 || port > 65535)
    c.add(`${path}.containerPort`, 'knative.containerPort', `expected 0 <= ${port} <= 65535`);
}

function containerSecurityContext(c: Collector, sc: Obj | undefined, path: string): void {
  if (!sc) return;
  c.mask(sc, CONTAINER_SECURITY_CONTEXT_MASK, path, { privileged: sc['privileged'] !== true });
  const caps = obj(sc['capabilities']);
  if (caps) {
    const add = caps['add'];
    const s = c.settings;
    const netBindOnly = Array.isArray(add) && add.length === 1 && add[0] === 'NET_BIND_SERVICE';
    const allowed =
      enabled(s, FEATURE.addCapabilities) || (s.securePodDefaults !== 'Disabled' && netBindOnly);
    if (add !== undefined && add !== null && !allowed)
      c.add(
        `${path}.capabilities.add`,
        'knative.featureDisabled',
        `must not set the field(s): add (config-features ${FEATURE.addCapabilities}: disabled)`,
      );
    for (const f of Object.keys(caps))
      if (f !== 'add' && f !== 'drop' && isSet(caps[f], true))
        c.add(`${path}.capabilities.${f}`, 'knative.disallowedField', `must not set the field(s): ${f}`);
  }
  for (const f of ['runAsUser', 'runAsGroup']) idRange(c, sc[f], at(path, f));
}

function volumeMounts(c: Collector, mounts: Obj[], base: string, volumes: Map<string, Volume>): void {
  const seen = new Set<string>();
  mounts.forEach((m, i) => {
    const path = at(base, i);
    c.mask(m, VOLUME_MOUNT_MASK, path);
    const name = str(m['name']);
    const vol = volumes.get(name);
    if (!vol)
      c.add(
        `${path}.name`,
        'knative.volumeMount',
        `volumeMount has no matching volume: no volume named "${name}" in volumes or volumesSpec.nfsVolumes`,
      );
    const mountPath = str(m['mountPath']);
    const clean = cleanPath(mountPath);
    if (mountPath === '') c.add(`${path}.mountPath`, 'knative.volumeMount', 'missing field(s)');
    else if (RESERVED_PATHS.has(clean))
      c.add(`${path}.mountPath`, 'knative.volumeMount', `mountPath "${clean}" is a reserved path`);
    else if (!mountPath.startsWith('/'))
      c.add(`${path}.mountPath`, 'knative.volumeMount', `invalid value: ${mountPath} (an absolute path)`);
    else if (seen.has(clean))
      c.add(`${path}.mountPath`, 'knative.volumeMount', `invalid value: "${mountPath}" must be unique`);
    seen.add(clean);
    const propagation = m['mountPropagation'];
    if (propagation !== undefined && propagation !== null) {
      if (!enabled(c.settings, FEATURE.mountPropagation))
        c.add(
          `${path}.mountPropagation`,
          'knative.featureDisabled',
          `Volume Mount Propagation support is disabled (config-features ${FEATURE.mountPropagation})`,
        );
      if (propagation !== 'None' && propagation !== 'HostToContainer')
        c.add(
          `${path}.mountPropagation`,
          'knative.volumeMount',
          'mount propagation should be set to None or HostToContainer',
        );
    }
    const pvc = vol ? obj(vol.value['persistentVolumeClaim']) : undefined;
    if (pvc && pvc['readOnly'] === true && m['readOnly'] !== true)
      c.add(`${path}.readOnly`, 'knative.volumeMount', 'volume is readOnly but volume mount is not');
  });
}

/** Go's `path.Clean`. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  return rooted ? `/${joined}` : joined || '.';
}

// ---------------------------------------------------------------------------------------------
// traffic

function traffic(c: Collector, target: Obj | undefined): void {
  if (!target || Object.keys(target).length === 0) return;
  const base = 'spec.routeSpec.trafficTarget';
  const percent = num(target['percent']) ?? 100;
  if (percent < 0 || percent > 100)
    c.add(`${base}.percent`, 'knative.traffic', `expected 0 <= ${percent} <= 100`);
  else if (percent !== 100)
    c.add(
      `${base}.percent`,
      'knative.traffic',
      `Traffic targets sum to ${percent}, want 100 (a Capp has one traffic target)`,
    );
  const tag = str(target['tag']);
  if (tag !== '' && !dns1035(tag))
    c.add(`${base}.tag`, 'knative.traffic', `invalid value: not a DNS 1035 label: ${tag}`);
  const revision = str(target['revisionName']);
  if (str(target['configurationName']) !== '')
    c.add(
      `${base}.configurationName`,
      'knative.traffic',
      'must not set the field(s): configurationName (the Capp is the configuration)',
    );
  else if (revision !== '' && !qualifiedName(revision))
    c.add(`${base}.revisionName`, 'knative.traffic', `invalid key name "${revision}"`);
  const latest = target['latestRevision'];
  if (typeof latest === 'boolean' && (revision !== '') === latest)
    c.add(
      `${base}.latestRevision`,
      'knative.traffic',
      `may not set revisionName "${revision}" when latestRevision is ${latest}`,
    );
  if (str(target['url']) !== '') c.add(`${base}.url`, 'knative.traffic', 'must not set the field(s): url');
}
