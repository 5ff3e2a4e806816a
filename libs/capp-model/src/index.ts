export * from './lib/capp.schema';
export * from './lib/capp-trait';
export * from './lib/capp.types';
export * from './lib/constants';
export * from './lib/crd';
export * from './lib/defaults';
export * from './lib/healthscope.schema';
export * from './lib/healthscope.types';
export * from './lib/label-selector';
export type { CrossFieldRule, ErrorRule, ObjectNode, SchemaNode, WarningRule } from './lib/schema/nodes';
export { isErrorRule, isPlainObject } from './lib/schema/nodes';
export { toOpenApi } from './lib/schema/openapi';
export type { JsonSchema } from './lib/schema/openapi';
export type { ValidationIssue } from './lib/schema/validate';
export { validateNode } from './lib/schema/validate';
export * from './lib/validate-capp';
export * from './lib/json';
export { parseGoDuration } from './lib/knative/duration';
export { cleanPath, isImageReference, knativeIssues, RESERVED_PORTS } from './lib/knative/rules';
export type { FeatureFlag, FeatureKey, KnativeConfigData, KnativeSettings } from './lib/knative/settings';
export {
  FEATURE as KNATIVE_FEATURE,
  KnativeConfigError,
  knativeSettings,
  PLATFORM_KNATIVE_FEATURES,
  PLATFORM_KNATIVE_SETTINGS,
} from './lib/knative/settings';
export * from './lib/resource-policy';
