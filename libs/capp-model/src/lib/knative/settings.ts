/**
 * The cluster settings Knative Serving's admission depends on, read from the same ConfigMaps Serving
 * reads (`knative-serving/config-features`, `config-defaults`, `config-autoscaler`) with Serving's
 * defaults (knative.dev/serving v0.49) for whatever a ConfigMap leaves out.
 */

/** A Serving feature flag: `Enabled`, `Disabled` or `Allowed` (case-insensitive in the ConfigMap). */
export type FeatureFlag = 'Enabled' | 'Disabled' | 'Allowed';

export const FEATURE = {
  multiContainer: 'multi-container',
  multiContainerProbing: 'multi-container-probing',
  securePodDefaults: 'secure-pod-defaults',
  addCapabilities: 'kubernetes.containerspec-addcapabilities',
  affinity: 'kubernetes.podspec-affinity',
  dnsConfig: 'kubernetes.podspec-dnsconfig',
  dnsPolicy: 'kubernetes.podspec-dnspolicy',
  emptyDir: 'kubernetes.podspec-volumes-emptydir',
  fieldRef: 'kubernetes.podspec-fieldref',
  hostAliases: 'kubernetes.podspec-hostaliases',
  hostIPC: 'kubernetes.podspec-hostipc',
  hostNetwork: 'kubernetes.podspec-hostnetwork',
  hostPID: 'kubernetes.podspec-hostpid',
  hostPath: 'kubernetes.podspec-volumes-hostpath',
  csi: 'kubernetes.podspec-volumes-csi',
  imageVolume: 'kubernetes.podspec-volumes-image',
  initContainers: 'kubernetes.podspec-init-containers',
  mountPropagation: 'kubernetes.podspec-volumes-mount-propagation',
  nodeSelector: 'kubernetes.podspec-nodeselector',
  pvc: 'kubernetes.podspec-persistent-volume-claim',
  pvcWrite: 'kubernetes.podspec-persistent-volume-write',
  priorityClassName: 'kubernetes.podspec-priorityclassname',
  runtimeClassName: 'kubernetes.podspec-runtimeclassname',
  schedulerName: 'kubernetes.podspec-schedulername',
  securityContext: 'kubernetes.podspec-securitycontext',
  shareProcessNamespace: 'kubernetes.podspec-shareprocessnamespace',
  tolerations: 'kubernetes.podspec-tolerations',
  topologySpreadConstraints: 'kubernetes.podspec-topologyspreadconstraints',
} as const;

export type FeatureKey = (typeof FEATURE)[keyof typeof FEATURE];

/** Serving's defaults: everything off but multi-container and emptyDir volumes. */
const FEATURE_DEFAULTS: Readonly<Record<FeatureKey, FeatureFlag>> = Object.fromEntries(
  Object.values(FEATURE).map((key) => [
    key,
    key === FEATURE.multiContainer || key === FEATURE.emptyDir ? 'Enabled' : 'Disabled',
  ]),
) as Record<FeatureKey, FeatureFlag>;

/**
 * The features a Capp platform's Serving turns on (helmfile/charts/knative-serving): NFS volumes are
 * PVC volumes mounted read-write, emptyDir scratch space, pod securityContext, and what the trait
 * catalogue writes (affinity, init containers).
 */
export const PLATFORM_KNATIVE_FEATURES: Readonly<Record<string, string>> = {
  [FEATURE.pvc]: 'enabled',
  [FEATURE.pvcWrite]: 'enabled',
  [FEATURE.emptyDir]: 'enabled',
  [FEATURE.securityContext]: 'enabled',
  // What the chart's trait catalogue adds (node-affinity, init-container).
  [FEATURE.affinity]: 'enabled',
  [FEATURE.initContainers]: 'enabled',
};

export interface KnativeSettings {
  readonly features: Readonly<Record<FeatureKey, FeatureFlag>>;
  /** `secure-pod-defaults`: Disabled, Enabled or AllowRootBounded. */
  readonly securePodDefaults: 'Disabled' | 'Enabled' | 'AllowRootBounded';
  readonly revisionTimeoutSeconds: number;
  readonly maxRevisionTimeoutSeconds: number;
  readonly containerConcurrencyMaxLimit: number;
  readonly allowContainerConcurrencyZero: boolean;
  /** `config-autoscaler` */
  readonly podAutoscalerClass: string;
  readonly allowZeroInitialScale: boolean;
  readonly maxScaleLimit: number;
}

/** The data of the three ConfigMaps (any may be absent). */
export interface KnativeConfigData {
  features?: Readonly<Record<string, string>>;
  defaults?: Readonly<Record<string, string>>;
  autoscaler?: Readonly<Record<string, string>>;
}

/** A ConfigMap value Serving would refuse to load (its webhook then keeps the previous settings). */
export class KnativeConfigError extends Error {
  constructor(
    readonly configMap: string,
    readonly key: string,
    message: string,
  ) {
    super(`${configMap}: ${key}: ${message}`);
    this.name = 'KnativeConfigError';
  }
}

function flag(raw: string | undefined, fallback: FeatureFlag): FeatureFlag {
  if (raw === undefined) return fallback;
  const found = (['Enabled', 'Allowed', 'Disabled'] as const).find(
    (f) => f.toLowerCase() === raw.trim().toLowerCase(),
  );
  return found ?? fallback;
}

function int(
  data: Readonly<Record<string, string>> | undefined,
  cm: string,
  key: string,
  fallback: number,
): number {
  const raw = data?.[key];
  if (raw === undefined) return fallback;
  if (!/^[+-]?\d+$/.test(raw.trim()))
    throw new KnativeConfigError(cm, key, `not an integer: ${JSON.stringify(raw)}`);
  return Number(raw.trim());
}

function bool(data: Readonly<Record<string, string>> | undefined, key: string, fallback: boolean): boolean {
  const raw = data?.[key];
  // Serving's cm.AsBool: strconv.ParseBool, and an unparsable value is ignored.
  if (raw === undefined) return fallback;
  const v = raw.trim();
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return fallback;
}

/** Settings from the ConfigMaps' data, with Serving's defaults; throws {@link KnativeConfigError}. */
export function knativeSettings(data: KnativeConfigData = {}): KnativeSettings {
  const features = Object.fromEntries(
    Object.values(FEATURE).map((key) => [key, flag(data.features?.[key], FEATURE_DEFAULTS[key])]),
  ) as Record<FeatureKey, FeatureFlag>;
  const secureRaw = data.features?.[FEATURE.securePodDefaults]?.trim().toLowerCase();
  const securePodDefaults =
    secureRaw === 'enabled' ? 'Enabled' : secureRaw === 'allowrootbounded' ? 'AllowRootBounded' : 'Disabled';
  const defaults = data.defaults;
  const revisionTimeoutSeconds = int(defaults, 'config-defaults', 'revision-timeout-seconds', 300);
  const maxRevisionTimeoutSeconds = int(defaults, 'config-defaults', 'max-revision-timeout-seconds', 600);
  if (revisionTimeoutSeconds > maxRevisionTimeoutSeconds)
    throw new KnativeConfigError(
      'config-defaults',
      'revision-timeout-seconds',
      `${revisionTimeoutSeconds} cannot be greater than max-revision-timeout-seconds (${maxRevisionTimeoutSeconds})`,
    );
  const containerConcurrencyMaxLimit = int(
    defaults,
    'config-defaults',
    'container-concurrency-max-limit',
    1000,
  );
  if (containerConcurrencyMaxLimit < 1)
    throw new KnativeConfigError('config-defaults', 'container-concurrency-max-limit', 'must be at least 1');
  return {
    features,
    securePodDefaults,
    revisionTimeoutSeconds,
    maxRevisionTimeoutSeconds,
    containerConcurrencyMaxLimit,
    allowContainerConcurrencyZero: bool(defaults, 'allow-container-concurrency-zero', true),
    podAutoscalerClass: data.autoscaler?.['pod-autoscaler-class']?.trim() || 'kpa.autoscaling.knative.dev',
    allowZeroInitialScale: bool(data.autoscaler, 'allow-zero-initial-scale', false),
    maxScaleLimit: int(data.autoscaler, 'config-autoscaler', 'max-scale-limit', 0),
  };
}

/** What a Capp platform's Serving runs with: Serving's defaults plus {@link PLATFORM_KNATIVE_FEATURES}. */
export const PLATFORM_KNATIVE_SETTINGS: KnativeSettings = knativeSettings({
  features: PLATFORM_KNATIVE_FEATURES,
});

/** True when the flag lets the field through Serving's field masks (Enabled or Allowed). */
export const notDisabled = (settings: KnativeSettings, key: FeatureKey): boolean =>
  settings.features[key] !== 'Disabled';
export const enabled = (settings: KnativeSettings, key: FeatureKey): boolean =>
  settings.features[key] === 'Enabled';
