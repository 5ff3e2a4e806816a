/**
 * What Knative Serving lets through its field masks (knative.dev/serving v0.49 `fieldmask.go`), as
 * data: per Kubernetes type, the fields a revision may set — always, behind a feature flag, or only
 * with a given value — and the type's other fields, which Serving refuses ("must not set the
 * field(s)"). A field that is no Kubernetes field at all is dropped by Serving's decoder, not refused.
 */
import { FEATURE, type FeatureKey } from './settings';

/**
 * How a field passes the mask: always (`true`), never (`false`; its Go zero value — false, 0, "" — is
 * not "set"), never even as a zero value (`'pointer'`: a Go pointer field, so any JSON value is set),
 * or when a feature is not Disabled.
 */
export type FieldAllowance =
  true | false | 'pointer' | { readonly feature: FeatureKey; readonly pointer?: boolean };

export type FieldMask = Readonly<Record<string, FieldAllowance>>;

const never = (...fields: string[]): Record<string, false> =>
  Object.fromEntries(fields.map((f) => [f, false as const]));
const always = (...fields: string[]): Record<string, true> =>
  Object.fromEntries(fields.map((f) => [f, true as const]));
const pointers = (...fields: string[]): Record<string, 'pointer'> =>
  Object.fromEntries(fields.map((f) => [f, 'pointer' as const]));
const gated = (feature: FeatureKey, ...fields: string[]): Record<string, { feature: FeatureKey }> =>
  Object.fromEntries(fields.map((f) => [f, { feature }]));
const gatedPointer = (feature: FeatureKey, ...fields: string[]): Record<string, FieldAllowance> =>
  Object.fromEntries(fields.map((f) => [f, { feature, pointer: true }]));

/** corev1.PodSpec (Kubernetes 1.35) plus Knative's revision fields. */
export const POD_SPEC_MASK: FieldMask = {
  ...always('serviceAccountName', 'containers', 'volumes', 'imagePullSecrets', 'enableServiceLinks'),
  // Knative RevisionSpec fields beside the PodSpec.
  ...always('containerConcurrency', 'timeoutSeconds', 'responseStartTimeoutSeconds', 'idleTimeoutSeconds'),
  ...gatedPointer(FEATURE.affinity, 'affinity'),
  ...gated(FEATURE.topologySpreadConstraints, 'topologySpreadConstraints'),
  ...gated(FEATURE.hostAliases, 'hostAliases'),
  ...gated(FEATURE.nodeSelector, 'nodeSelector'),
  ...gatedPointer(FEATURE.runtimeClassName, 'runtimeClassName'),
  ...gated(FEATURE.tolerations, 'tolerations'),
  ...gatedPointer(FEATURE.shareProcessNamespace, 'shareProcessNamespace'),
  ...gated(FEATURE.priorityClassName, 'priorityClassName'),
  ...gated(FEATURE.schedulerName, 'schedulerName'),
  ...gated(FEATURE.initContainers, 'initContainers'),
  ...gated(FEATURE.dnsPolicy, 'dnsPolicy'),
  ...gatedPointer(FEATURE.dnsConfig, 'dnsConfig'),
  ...gated(FEATURE.hostIPC, 'hostIPC'),
  ...gated(FEATURE.hostPID, 'hostPID'),
  ...gated(FEATURE.hostNetwork, 'hostNetwork'),
  // securityContext and automountServiceAccountToken have value rules (see rules.ts).
  ...always('securityContext', 'automountServiceAccountToken'),
  ...never(
    'restartPolicy',
    'nodeName',
    'hostname',
    'subdomain',
    'readinessGates',
    'serviceAccount',
    'ephemeralContainers',
    'overhead',
    'schedulingGates',
    'resourceClaims',
  ),
  ...pointers(
    'terminationGracePeriodSeconds',
    'activeDeadlineSeconds',
    'priority',
    'preemptionPolicy',
    'setHostnameAsFQDN',
    'os',
    'hostUsers',
    'resources',
    'hostnameOverride',
    'workloadRef',
  ),
};

/** corev1.Container */
export const CONTAINER_MASK: FieldMask = {
  ...always(
    'name',
    'args',
    'command',
    'env',
    'workingDir',
    'envFrom',
    'image',
    'imagePullPolicy',
    'livenessProbe',
    'ports',
    'readinessProbe',
    'resources',
    'securityContext',
    'startupProbe',
    'terminationMessagePath',
    'terminationMessagePolicy',
    'volumeMounts',
  ),
  ...never('stdin', 'stdinOnce', 'tty', 'volumeDevices', 'resizePolicy', 'restartPolicyRules'),
  ...pointers('lifecycle', 'restartPolicy'),
};

/** corev1.Volume's source fields (VolumeSourceMask). */
export const VOLUME_SOURCE_MASK: FieldMask = {
  ...always('secret', 'configMap', 'projected'),
  ...gatedPointer(FEATURE.emptyDir, 'emptyDir'),
  ...gatedPointer(FEATURE.pvc, 'persistentVolumeClaim'),
  ...gatedPointer(FEATURE.hostPath, 'hostPath'),
  ...gatedPointer(FEATURE.csi, 'csi'),
  ...gatedPointer(FEATURE.imageVolume, 'image'),
  ...pointers(
    'gcePersistentDisk',
    'awsElasticBlockStore',
    'gitRepo',
    'nfs',
    'iscsi',
    'glusterfs',
    'rbd',
    'flexVolume',
    'cinder',
    'cephfs',
    'flocker',
    'downwardAPI',
    'fc',
    'azureFile',
    'vsphereVolume',
    'quobyte',
    'azureDisk',
    'photonPersistentDisk',
    'portworxVolume',
    'scaleIO',
    'storageos',
    'ephemeral',
  ),
};

export const VOLUME_PROJECTION_MASK: FieldMask = {
  ...always('secret', 'configMap', 'serviceAccountToken', 'downwardAPI'),
  ...pointers('clusterTrustBundle', 'podCertificate'),
};

export const VOLUME_MOUNT_MASK: FieldMask = {
  ...always('name', 'readOnly', 'mountPath', 'subPath'),
  ...gatedPointer(FEATURE.mountPropagation, 'mountPropagation'),
  ...never('subPathExpr'),
  ...pointers('recursiveReadOnly'),
};

export const CONTAINER_PORT_MASK: FieldMask = {
  ...always('containerPort', 'name', 'protocol'),
  ...never('hostIP', 'hostPort'),
};

export const ENV_VAR_SOURCE_MASK: FieldMask = {
  ...always('configMapKeyRef', 'secretKeyRef'),
  ...gatedPointer(FEATURE.fieldRef, 'fieldRef', 'resourceFieldRef'),
  ...pointers('fileKeyRef'),
};

export const RESOURCES_MASK: FieldMask = { ...always('limits', 'requests'), ...never('claims') };

export const CONTAINER_SECURITY_CONTEXT_MASK: FieldMask = {
  ...always(
    'capabilities',
    'readOnlyRootFilesystem',
    'runAsUser',
    'runAsGroup',
    'runAsNonRoot',
    'allowPrivilegeEscalation',
    'seccompProfile',
  ),
  // privileged: only `false` (rules.ts)
  privileged: true,
  ...pointers('seLinuxOptions', 'procMount', 'windowsOptions', 'appArmorProfile'),
};

export const POD_SECURITY_CONTEXT_MASK: FieldMask = {
  ...always('runAsUser', 'runAsGroup', 'runAsNonRoot', 'fsGroup', 'supplementalGroups', 'seccompProfile'),
  ...never('sysctls'),
  ...pointers(
    'seLinuxOptions',
    'windowsOptions',
    'fsGroupChangePolicy',
    'appArmorProfile',
    'seLinuxChangePolicy',
    'supplementalGroupsPolicy',
  ),
};

export const ENV_FROM_MASK: FieldMask = always('prefix', 'configMapRef', 'secretRef');
