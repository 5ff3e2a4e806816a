import { cappSchema, cappSpecSchema, cappWriteSchema } from './capp.schema';
import { knativeIssues } from './knative/rules';
import { type KnativeSettings, PLATFORM_KNATIVE_SETTINGS } from './knative/settings';
import { validateNode, ValidationIssue, warningsOf } from './schema/validate';

export interface ValidateOptions {
  /**
   * The cluster's Knative settings for Knative Serving's admission rules (`knativeIssues`), judged
   * once the Capp is structurally sound; default what a Capp platform's Serving runs with
   * ({@link PLATFORM_KNATIVE_SETTINGS}); `false` skips them.
   */
  knative?: KnativeSettings | false;
}

/** Structural issues first; only a structurally sound Capp is judged by Knative's rules. */
function withKnative(
  structural: ValidationIssue[],
  obj: unknown,
  options: ValidateOptions,
): ValidationIssue[] {
  if (structural.length > 0 || options.knative === false) return structural;
  return knativeIssues(obj, options.knative ?? PLATFORM_KNATIVE_SETTINGS);
}

/**
 * Validates a whole Capp object (`apiVersion`, `kind`, `metadata`, `spec`) and returns every problem,
 * each with the field path, the rule id and a message. An empty list means valid.
 */
export function validateCapp(obj: unknown, options: ValidateOptions = {}): ValidationIssue[] {
  return withKnative(validateNode(cappSchema, obj, ''), obj, options);
}

/** Validates a REST API write body (`cappWriteSchema`): the same rules, without server-owned fields. */
export function validateCappWrite(obj: unknown, options: ValidateOptions = {}): ValidationIssue[] {
  return withKnative(validateNode(cappWriteSchema, obj, ''), obj, options);
}

/** Validates a Capp spec alone; paths start with `spec.`. */
export function validateCappSpec(spec: unknown): ValidationIssue[] {
  return validateNode(cappSpecSchema, spec, 'spec');
}

/**
 * What in a Capp is valid but probably not what its author meant (rules of severity `warning`, e.g.
 * `tlsEnabled` without a hostname, which container-app-operator v0.3.5 accepted): never a refusal.
 * The CLI prints them, the admission webhook returns them (kubectl prints them), the API sends them
 * in `Warning` headers. Same `{path, rule, message}` shape as the issues of `validateCapp`.
 */
export function cappWarnings(obj: unknown): ValidationIssue[] {
  return warningsOf(cappSchema, obj, '');
}

/** The warnings of a Capp spec alone; paths start with `spec.`. */
export function cappSpecWarnings(spec: unknown): ValidationIssue[] {
  return warningsOf(cappSpecSchema, spec, 'spec');
}

/** One line per warning, as kubectl prints the API server's: `<path>: <message> (rule <rule>)`. */
export function formatWarnings(warnings: readonly ValidationIssue[]): string[] {
  return warnings.map((w) => `${w.path || '<root>'}: ${w.message} (rule ${w.rule})`);
}

/** Formats issues the way the CLI prints them: one `<path>: <message>` line each. */
export function formatIssues(issues: readonly ValidationIssue[]): string[] {
  return issues.map((i) => `${i.path || '<root>'}: ${i.message}`);
}
