import type { ValidationIssue } from '@capp/capp-model';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/**
 * A trait's `parameters` is a JSON Schema (draft 2020-12), checked with Ajv; defaults are filled in.
 * One validator per distinct schema text.
 */
const ajv = new Ajv2020({ allErrors: true, useDefaults: true, strict: false });
addFormats(ajv);
const validators = new Map<string, ValidateFunction>();

/** The same schema object (a cached CappTrait's) is looked up without serializing it. */
const byObject = new WeakMap<object, ValidateFunction>();

function validatorOf(schema: Record<string, unknown>): ValidateFunction {
  const known = byObject.get(schema);
  if (known) return known;
  const key = JSON.stringify(schema);
  let v = validators.get(key);
  if (!v) {
    v = ajv.compile(schema);
    if (validators.size >= 1000) validators.clear();
    validators.set(key, v);
  }
  byObject.set(schema, v);
  return v;
}

/** Why a `parameters` schema cannot be used, or undefined when it compiles. */
export function parametersSchemaProblem(schema: unknown): string | undefined {
  if (schema === undefined) return undefined;
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return 'must be an object';
  try {
    validatorOf(schema as Record<string, unknown>);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function issueOf(e: ErrorObject, base: string): ValidationIssue {
  const missing = e.keyword === 'required' ? `.${String(e.params['missingProperty'])}` : '';
  const extra = e.keyword === 'additionalProperties' ? `.${String(e.params['additionalProperty'])}` : '';
  const at = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s.replace(/~1/g, '/').replace(/~0/g, '~')}`))
    .join('');
  const message =
    e.keyword === 'required'
      ? 'is required'
      : e.keyword === 'additionalProperties'
        ? 'is not a parameter of this trait'
        : (e.message ?? 'is invalid');
  return { path: `${base}${at}${missing}${extra}`, rule: `parameters.${e.keyword}`, message };
}

/**
 * The properties with the schema's defaults filled in, or the problems (paths under `base`, e.g.
 * `spec.traits[0].properties`). No schema: any object is taken as is.
 */
export function resolveProperties(
  schema: Record<string, unknown> | undefined,
  properties: unknown,
  base: string,
): { properties: Record<string, unknown>; issues: ValidationIssue[] } {
  const value = structuredClone(properties ?? {}) as Record<string, unknown>;
  if (!schema) return { properties: value, issues: [] };
  const validate = validatorOf(schema);
  if (validate(value)) return { properties: value, issues: [] };
  return { properties: value, issues: (validate.errors ?? []).map((e) => issueOf(e, base)) };
}
