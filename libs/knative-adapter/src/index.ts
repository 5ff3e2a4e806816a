export type { CertificateSpec } from './lib/children/certificate';
export type { CNAMERecordSpec } from './lib/children/dns-record';
export type { DomainMappingSpec } from './lib/children/domain-mapping';
export type { KnativeServiceSpec } from './lib/children/knative-service';
export type { FlowSpec, OutputSpec, SecretValue } from './lib/children/logging';
export type { NfsPvcSpec } from './lib/children/nfs-pvc';
export type { SyslogNGFlowSpec, SyslogNGOutputSpec } from './lib/children/syslog-ng';
export type { AutoscaleDefaults, ConfigMapLike, DnsConfig } from './lib/config';
export type { ChildKind, LoggingBackend } from './lib/resources';
export type { RenderConfig, RenderObservations } from './lib/render';
export type { StatusInput } from './lib/status';
export type { PatchConflict, PathStep } from './lib/traits/patch';
export type {
  TraitFailureReason,
  TraitHttpRequest,
  TraitInput,
  TraitResult,
  TraitUse,
} from './lib/traits/traits';
export type { DesiredChild, ObservedChild } from './lib/types';

export { makeCertificate } from './lib/children/certificate';
export { makeCNAMERecord } from './lib/children/dns-record';
export { makeDomainMapping } from './lib/children/domain-mapping';
export {
  ANNOTATION_ACTIVATION_SCALE,
  ANNOTATION_CLASS,
  ANNOTATION_MAX_SCALE,
  ANNOTATION_METRIC,
  ANNOTATION_MIN_SCALE,
  ANNOTATION_TARGET,
  activationScale,
  AUTOSCALER_CLASS,
  autoscaleAnnotations,
  HPA_CLASS,
  KPA_CLASS,
  makeKnativeService,
} from './lib/children/knative-service';
export {
  HEC_TOKEN_SECRET_KEY,
  LABEL_KNATIVE_CONFIGURATION,
  makeFlow,
  makeOutput,
  PASSWORD_SECRET_KEY,
} from './lib/children/logging';
export { makeNfsPvc } from './lib/children/nfs-pvc';
export {
  makeSyslogNGFlow,
  makeSyslogNGOutput,
  SYSLOG_NG_ELASTIC_TEMPLATE,
  SYSLOG_NG_PASSWORD_SECRET_KEY,
} from './lib/children/syslog-ng';
export { ConditionManager, ConditionSet, REASON_INITIALIZING, REASON_READY } from './lib/conditions';
export {
  AUTOSCALE_DEFAULTS_CONFIGMAP,
  AUTOSCALE_FALLBACKS,
  DNS_CONFIGMAP,
  DNS_DEFAULTS,
  parseAutoscaleDefaults,
  parseDnsConfig,
} from './lib/config';
export { ConfigError, RenderError } from './lib/errors';
export { LABEL_PARENT_CAPP_NAMESPACE, LABEL_PARENT_CAPP_NS, parentOf } from './lib/meta';
export {
  cappName,
  claimName,
  customDomain,
  dnsRecordName,
  domainOfTlsSecret,
  flowName,
  knativeServiceName,
  nfsPvcName,
  outputName,
  syslogNGFlowName,
  syslogNGOutputName,
  tlsSecretName,
} from './lib/names';
export { cappDomain, isEnabled, renderChildren } from './lib/render';
export {
  formatPath,
  jsonMergePatch,
  jsonPatch,
  Ledger,
  mergeKeyFor,
  PatchError,
  strategicMerge,
} from './lib/traits/patch';
export {
  applyTraits,
  autoAppliedTraits,
  CORE_SERVICE,
  possibleChildKinds,
  prepareTrait,
  resolveTraitUses,
  TRAIT_OUTPUT_KINDS,
  traitContext,
  TraitError,
  usesTrait,
  validateCappTrait,
  validateCappTraits,
} from './lib/traits/traits';
export {
  CERTIFICATE,
  CHILD_KINDS,
  childKey,
  childKindsFor,
  CNAME_RECORD,
  DEFAULT_LOGGING_BACKEND,
  DOMAIN_MAPPING,
  isClusterScoped,
  isKind,
  KNATIVE_SERVICE,
  LOGGING_BACKENDS,
  LOGGING_FLOW,
  LOGGING_KINDS,
  LOGGING_OUTPUT,
  NFS_PVC,
  SYSLOG_NG_FLOW,
  SYSLOG_NG_OUTPUT,
  toManagedResource,
} from './lib/resources';
export {
  CAPP_CONDITIONS,
  computeStatus,
  REASON_APPLY_FAILED,
  REASON_DISABLED,
  REASON_NO_CUSTOM_HOSTNAME,
  REASON_NOT_CONFIGURED,
  REASON_NOT_RENDERED,
  REASON_PENDING,
  REASON_RECONCILING,
  statusEqual,
} from './lib/status';
