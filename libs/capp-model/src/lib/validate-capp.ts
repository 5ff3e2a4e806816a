import { cappSchema, cappSpecSchema, cappWriteSchema } from './capp.schema';
import { validateNode, ValidationIssue } from './schema/validate';

/**
 * Validates a whole Capp object (`apiVersion`, `kind`, `metadata`, `spec`) and returns every problem,
 * each with the field path, the rule id and a message. An empty list means valid.
 */
export function validateCapp(obj: unknown): ValidationIssue[] {
  return validateNode(cappSchema, obj, '');
}

/** Validates a REST API write body (`cappWriteSchema`): the same rules, without server-owned fields. */
export function validateCappWrite(obj: unknown): ValidationIssue[] {
  return validateNode(cappWriteSchema, obj, '');
}

/** Validates a Capp spec alone; paths start with `spec.`. */
export function validateCappSpec(spec: unknown): ValidationIssue[] {
  return validateNode(cappSpecSchema, spec, 'spec');
}

/** Formats issues the way the CLI prints them: one `<path>: <message>` line each. */
export function formatIssues(issues: readonly ValidationIssue[]): string[] {
  return issues.map((i) => `${i.path || '<root>'}: ${i.message}`);
}
