import {
  Capp,
  CappSpec,
  DEFAULT_SCALE_METRIC,
  KubeObject,
  LABEL_PARENT_CAPP,
  RevisionSpec,
  ScaleMetric,
  TrafficTarget,
} from '@capp/capp-model';

import { AutoscaleDefaults } from '../config';
import { cappGroupAnnotations, childMetadata, propagatedAnnotations } from '../meta';
import { cappName, claimName, knativeServiceName } from '../names';
import { KNATIVE_SERVICE } from '../resources';

export const AUTOSCALING_PREFIX = 'autoscaling.knative.dev/';
export const ANNOTATION_CLASS = 'autoscaling.knative.dev/class';
export const ANNOTATION_METRIC = 'autoscaling.knative.dev/metric';
export const ANNOTATION_TARGET = 'autoscaling.knative.dev/target';
export const ANNOTATION_ACTIVATION_SCALE = 'autoscaling.knative.dev/activation-scale';
export const ANNOTATION_MIN_SCALE = 'autoscaling.knative.dev/min-scale';
export const ANNOTATION_MAX_SCALE = 'autoscaling.knative.dev/max-scale';

export const KPA_CLASS = 'kpa.autoscaling.knative.dev';
export const HPA_CLASS = 'hpa.autoscaling.knative.dev';

/** Knative's autoscaler class for each metric: requests go to the KPA, resources to the HPA. */
export const AUTOSCALER_CLASS: Readonly<Record<ScaleMetric, string>> = {
  concurrency: KPA_CLASS,
  rps: KPA_CLASS,
  cpu: HPA_CLASS,
  memory: HPA_CLASS,
};

/** Older spellings Knative still accepts; a template may not carry both spellings of one annotation. */
const LEGACY_ALIASES: Readonly<Record<string, string>> = {
  [ANNOTATION_MIN_SCALE]: 'autoscaling.knative.dev/minScale',
  [ANNOTATION_MAX_SCALE]: 'autoscaling.knative.dev/maxScale',
};

export type KnativeServiceSpec = {
  template: {
    metadata: { name?: string; labels?: Record<string, string>; annotations: Record<string, string> };
    spec: RevisionSpec;
  };
  traffic?: TrafficTarget[];
};

/**
 * The revision-template annotations for the Capp's scale metric: class, metric, its target from the
 * autoscale defaults, and min/max scale when the Capp bounds the replicas (the activation scale comes
 * after the user's own annotations are merged: see {@link activationScale}).
 */
export function autoscaleAnnotations(spec: CappSpec, defaults: AutoscaleDefaults): Record<string, string> {
  const metric = spec.scaleMetric ?? DEFAULT_SCALE_METRIC;
  const annotations: Record<string, string> = {
    [ANNOTATION_CLASS]: AUTOSCALER_CLASS[metric],
    [ANNOTATION_METRIC]: metric,
    [ANNOTATION_TARGET]: String(defaults[metric]),
  };
  if (spec.minReplicas !== undefined && spec.minReplicas !== null) {
    annotations[ANNOTATION_MIN_SCALE] = String(spec.minReplicas);
  }
  if (spec.maxReplicas !== undefined && spec.maxReplicas !== null) {
    annotations[ANNOTATION_MAX_SCALE] = String(spec.maxReplicas);
  }
  return annotations;
}

const scaleOf = (annotations: Record<string, string>, key: string): number => {
  const raw = annotations[key] ?? annotations[LEGACY_ALIASES[key] ?? ''];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : 0;
};

/**
 * The platform's activation scale, as far as Knative admits it next to the revision's min and max
 * scale (its rules: at least 2, not below min-scale, not above max-scale): clamped to max-scale, and
 * left out where it would mean nothing (1, or min-scale already above it).
 */
export function activationScale(annotations: Record<string, string>, configured: number): string | undefined {
  const min = scaleOf(annotations, ANNOTATION_MIN_SCALE);
  const max = scaleOf(annotations, ANNOTATION_MAX_SCALE);
  const scale = max !== 0 && max < configured ? max : configured;
  return scale < 2 || min > scale ? undefined : String(scale);
}

/** Platform defaults first; every annotation the user wrote (under either spelling) wins over its default. */
function mergeTemplateAnnotations(
  defaults: Record<string, string>,
  user: Record<string, string> | undefined,
): Record<string, string> {
  const userKeys = new Set(Object.keys(user ?? {}));
  const kept = Object.entries(defaults).filter(
    ([key]) => !userKeys.has(key) && !userKeys.has(LEGACY_ALIASES[key] ?? ''),
  );
  return { ...Object.fromEntries(kept), ...user };
}

/**
 * Pod volumes: the user's, then one PVC volume per NFS volume (claiming the PVC its NfsPvc creates).
 * The NFS volume is authoritative: a user volume of the same name is replaced by it.
 */
function podVolumes(spec: CappSpec, userVolumes: RevisionSpec['volumes']): RevisionSpec['volumes'] {
  const nfs = spec.volumesSpec?.nfsVolumes ?? [];
  if (nfs.length === 0) return userVolumes;
  const nfsNames = new Set(nfs.map((v) => v.name));
  return [
    ...(userVolumes ?? []).filter((v) => !nfsNames.has(v['name'] as string)),
    ...nfs.map((v) => ({ name: v.name, persistentVolumeClaim: { claimName: claimName(v) } })),
  ];
}

/** The user's activation scale when they wrote one, else the platform's where Knative admits it. */
function withActivationScale(
  annotations: Record<string, string>,
  configured: number,
): Record<string, string> {
  if (ANNOTATION_ACTIVATION_SCALE in annotations) return annotations;
  const scale = activationScale(annotations, configured);
  return scale === undefined ? annotations : { ...annotations, [ANNOTATION_ACTIVATION_SCALE]: scale };
}

/**
 * The Knative Service (same name and namespace as the Capp). Its template is the Capp's
 * `configurationSpec.template` (deep-copied) plus autoscale annotations, `enableServiceLinks: false`,
 * the NFS volumes and the route timeout; `spec.traffic` is the Capp's traffic target, when set.
 * Metadata: the Capp's labels and its annotations but kubectl's and `rcs.dana.io/last-updated-by`.
 * As container-app-operator v0.3.5 does, the template also carries the Capp's labels (beneath the
 * template's own; `rcs.dana.io/parent-capp` always the Capp's name) and its `rcs.dana.io/`
 * annotations (beneath the autoscale defaults and the template's own): changing one rolls a revision.
 */
export function makeKnativeService(capp: Capp, autoscale: AutoscaleDefaults): KubeObject<KnativeServiceSpec> {
  const spec = capp.spec;
  const source = structuredClone(spec.configurationSpec.template);

  const templateSpec: RevisionSpec = { ...source.spec, enableServiceLinks: false };
  const volumes = podVolumes(spec, source.spec.volumes);
  if (volumes !== undefined) templateSpec.volumes = volumes;
  const timeout = spec.routeSpec?.routeTimeoutSeconds;
  if (timeout !== undefined && timeout !== null) templateSpec.timeoutSeconds = timeout;

  const ksvcSpec: KnativeServiceSpec = {
    template: {
      metadata: {
        ...source.metadata,
        labels: { ...capp.metadata.labels, ...source.metadata?.labels, [LABEL_PARENT_CAPP]: cappName(capp) },
        annotations: withActivationScale(
          mergeTemplateAnnotations(
            { ...cappGroupAnnotations(capp.metadata.annotations), ...autoscaleAnnotations(spec, autoscale) },
            source.metadata?.annotations,
          ),
          autoscale.activationScale,
        ),
      },
      spec: templateSpec,
    },
  };
  const traffic = spec.routeSpec?.trafficTarget;
  // Knative requires the targets' percents to sum to 100: a lone target without one carries all traffic.
  // An empty one is none: a v0.3.5 Go client always sends `trafficTarget: {}` (a struct is never omitted).
  if (traffic && Object.keys(traffic).length > 0)
    ksvcSpec.traffic = [{ ...structuredClone(traffic), percent: traffic.percent ?? 100 }];

  return {
    apiVersion: KNATIVE_SERVICE.apiVersion,
    kind: KNATIVE_SERVICE.kind,
    metadata: childMetadata(capp, knativeServiceName(capp), {
      labels: capp.metadata.labels,
      annotations: propagatedAnnotations(capp.metadata.annotations),
    }),
    spec: ksvcSpec,
  };
}
