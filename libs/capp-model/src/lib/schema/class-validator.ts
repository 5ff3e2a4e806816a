import 'reflect-metadata';

import { Type } from 'class-transformer';
import { IsOptional, registerDecorator, ValidateNested, ValidationError } from 'class-validator';

import { CrossFieldRule, isErrorRule, ObjectNode, SchemaNode } from './nodes';
import { joinPath, validateNode, ValidationIssue } from './validate';

/**
 * Builds class-validator classes from schema nodes, so the API's ValidationPipe
 * (whitelist + forbidNonWhitelisted + transform) enforces exactly the rules of `validateCapp`.
 *
 * Objects with a closed set of fields become nested classes (unknown fields are then refused by the
 * pipe); subtrees that pass Kubernetes types through (PodSpec, template metadata, maps) are checked
 * as a whole by the same `validateNode` so their unknown fields survive.
 */

type Ctor = new () => object;

/** Constraint name used by class-validator for a field the class does not declare. */
const WHITELIST_CONSTRAINT = 'whitelistValidation';

/** Whether a node is validated field-by-field through a nested class. */
function isClassNode(node: SchemaNode): node is ObjectNode {
  return node.kind === 'object' && !node.preserveUnknownFields;
}

function isClassArray(node: SchemaNode): boolean {
  return node.kind === 'array' && isClassNode(node.items);
}

function ownRules(node: SchemaNode): string[] {
  const rules = ['type'];
  switch (node.kind) {
    case 'string':
      if (node.enum) rules.push('enum');
      if (node.minLength !== undefined) rules.push('minLength');
      if (node.maxLength !== undefined) rules.push('maxLength');
      if (node.pattern) rules.push('pattern');
      break;
    case 'integer':
      if (node.minimum !== undefined) rules.push('minimum');
      if (node.maximum !== undefined) rules.push('maximum');
      break;
    case 'quantity':
      rules.push('quantity');
      break;
    case 'array':
      rules.push('minItems', 'maxItems', 'unique');
      break;
    default:
      break;
  }
  return rules;
}

/** Issues for one field value: only its own level for class nodes, the whole subtree otherwise. */
function fieldIssues(node: SchemaNode, value: unknown): ValidationIssue[] {
  if (value === undefined || value === null) return [];
  const all = validateNode(node, value, '');
  if (isClassNode(node) || isClassArray(node))
    return all.filter((i) => i.path === '' || /^\[\d+\]\.name$/.test(i.path));
  return all;
}

function addConstraint(
  target: Ctor,
  property: string,
  rule: string,
  test: (value: unknown, owner: Record<string, unknown>) => ValidationIssue[],
): void {
  registerDecorator({
    name: rule,
    target,
    propertyName: property,
    validator: {
      validate: (value: unknown, args) =>
        !test(value, (args?.object ?? {}) as Record<string, unknown>).some((i) => i.rule === rule),
      defaultMessage: (args) =>
        test(args?.value, (args?.object ?? {}) as Record<string, unknown>)
          .filter((i) => i.rule === rule)
          .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
          .join('; '),
    },
  });
}

/** The property a cross-field rule's constraint is registered on. */
function attachedTo(node: ObjectNode, r: CrossFieldRule): string {
  return (r.field ?? Object.keys(node.properties)[0]).split('.')[0];
}

const classCache = new WeakMap<ObjectNode, Ctor>();

/** Returns (and memoizes) the class-validator class for an object node. */
export function classFor(node: ObjectNode, name: string): Ctor {
  const cached = classCache.get(node);
  if (cached) return cached;
  const cls = { [name]: class {} }[name] as Ctor;
  classCache.set(node, cls);
  const proto = cls.prototype as object;
  const required = new Set(node.required ?? []);

  for (const [key, child] of Object.entries(node.properties)) {
    if (required.has(key)) {
      addConstraint(cls, key, 'required', (v) =>
        v === undefined || v === null ? [{ path: '', rule: 'required', message: 'is required' }] : [],
      );
    } else if (isClassNode(child) || isClassArray(child)) {
      // Nested validation refuses `undefined`; leaf rules already pass on a missing value, and must
      // still run then, because a cross-field rule may be attached to an absent field.
      IsOptional()(proto, key);
    }
    const childName = `${name}${key[0].toUpperCase()}${key.slice(1)}`;
    if (isClassNode(child)) {
      Type(() => classFor(child, childName))(proto, key);
      ValidateNested()(proto, key);
    } else if (child.kind === 'array' && isClassNode(child.items)) {
      const items = child.items;
      Type(() => classFor(items, `${childName}Item`))(proto, key);
      ValidateNested({ each: true })(proto, key);
    }
    const rules = new Set(ownRules(child));
    if (!isClassNode(child) && !isClassArray(child)) {
      // Subtrees report whatever rule their inner fields break.
      for (const r of [
        'required',
        'unknownField',
        'enum',
        'pattern',
        'minimum',
        'maximum',
        'minItems',
        'maxItems',
        'minLength',
        'maxLength',
        'maxSize',
        'quantity',
      ]) {
        rules.add(r);
      }
    }
    for (const rule of rules) {
      if (rule === 'required' && required.has(key)) continue;
      addConstraint(cls, key, rule, (v) => fieldIssues(child, v));
    }
  }

  // Cross-field rules are attached to the field they name, and judge the whole owning object. A
  // warning never refuses a request.
  const errorRules = (node.rules ?? []).filter(isErrorRule);
  for (const r of errorRules) {
    const property = attachedTo(node, r);
    addConstraint(cls, property, r.rule, (_v, owner) => {
      // As in validateNode (and the API server), a cross-field rule judges only an otherwise sound object.
      const crossRules = new Set(errorRules.map((x) => x.rule));
      const own = validateNode(node, owner, '').filter(
        (i) => !crossRules.has(i.rule) && !/[.[]/.test(i.path),
      );
      if (own.length) return [];
      return r.check(owner) ? [] : [{ path: '', rule: r.rule, message: r.message }];
    });
  }
  return cls;
}

/**
 * Turns class-validator errors (from a class built by `classFor(node)`) into the same
 * `{path, rule, message}` issues `validateNode(node, …)` gives for the same input.
 */
export function issuesFromValidationErrors(
  errors: readonly ValidationError[],
  node: ObjectNode,
  base = '',
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const error of errors) {
    const path = joinPath(base, error.property);
    const child = node.properties[error.property];
    if (!child) {
      issues.push({ path, rule: 'unknownField', message: 'is not a known field' });
      continue;
    }
    const constraints = Object.keys(error.constraints ?? {}).filter((c) => c !== WHITELIST_CONSTRAINT);
    const cross = (node.rules ?? []).filter(
      (r) => isErrorRule(r) && constraints.includes(r.rule) && attachedTo(node, r) === error.property,
    );
    for (const r of cross)
      issues.push({ path: r.field ? joinPath(base, r.field) : base, rule: r.rule, message: r.message });
    const own = constraints.filter((c) => !cross.some((r) => r.rule === c));
    if (own.length) {
      if (own.includes('required')) issues.push({ path, rule: 'required', message: 'is required' });
      else
        issues.push(
          ...validateNode(child, error.value, path).filter((i) => !isClassNode(child) || i.path === path),
        );
    }
    if (error.children?.length) {
      if (isClassNode(child)) {
        issues.push(...issuesFromValidationErrors(error.children, child, path));
      } else if (child.kind === 'array' && isClassNode(child.items)) {
        for (const itemError of error.children) {
          const itemPath = `${path}[${itemError.property}]`;
          issues.push(...issuesFromValidationErrors(itemError.children ?? [], child.items, itemPath));
        }
      }
    }
  }
  return dedupe(issues);
}

function dedupe(issues: ValidationIssue[]): ValidationIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.path}\u0000${i.rule}\u0000${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
