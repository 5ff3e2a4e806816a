import { isPlainObject, QUANTITY_PATTERN, SchemaNode } from './nodes';

/** One problem found in an object: where, which rule, and a sentence for a human. */
export interface ValidationIssue {
  /** Field path in the style of Kubernetes errors: `spec.volumesSpec.nfsVolumes[0].path`. */
  readonly path: string;
  readonly rule: string;
  readonly message: string;
}

const quantityRe = new RegExp(QUANTITY_PATTERN);
const regexCache = new Map<string, RegExp>();

function regex(source: string): RegExp {
  let re = regexCache.get(source);
  if (!re) {
    re = new RegExp(source);
    regexCache.set(source, re);
  }
  return re;
}

const utf8 = new TextEncoder();

export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base ? `${base}.${key}` : key;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/**
 * Checks `value` against `node`. Unknown fields are reported (rule `unknownField`) unless the node
 * preserves them, mirroring what a structural CRD would prune or reject. Warnings (broken rules of
 * severity `warning`) are not issues: see {@link warningsOf}.
 */
export function validateNode(node: SchemaNode, value: unknown, path: string): ValidationIssue[] {
  return check(node, value, path, []);
}

/**
 * The warning rules `value` breaks: it may be valid and still probably not what its author meant.
 * Judged, like every cross-field rule, only on objects whose own fields are sound.
 */
export function warningsOf(node: SchemaNode, value: unknown, path: string): ValidationIssue[] {
  const warnings: ValidationIssue[] = [];
  check(node, value, path, warnings);
  return warnings;
}

/** The issues of `value` against `node`; broken warning rules are pushed to `warnings` instead. */
function check(
  node: SchemaNode,
  value: unknown,
  path: string,
  warnings: ValidationIssue[],
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const add = (rule: string, message: string, at = path): void => {
    issues.push({ path: at, rule, message });
  };

  switch (node.kind) {
    case 'string': {
      if (typeof value !== 'string') {
        add('type', `must be a string, got ${typeName(value)}`);
        break;
      }
      if (node.enum && !node.enum.includes(value)) {
        add('enum', `must be one of ${node.enum.map((v) => `"${v}"`).join(', ')}, got "${value}"`);
      }
      if (node.minLength !== undefined && value.length < node.minLength) {
        add(
          'minLength',
          node.minLength === 1 ? 'must not be empty' : `must be at least ${node.minLength} characters`,
        );
      }
      if (node.maxLength !== undefined && value.length > node.maxLength) {
        add('maxLength', `must be at most ${node.maxLength} characters`);
      }
      if (node.pattern && value !== '' && !regex(node.pattern.regex).test(value)) {
        add('pattern', node.pattern.message);
      }
      break;
    }
    case 'integer': {
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        add('type', `must be an integer, got ${typeName(value)}`);
        break;
      }
      if (node.minimum !== undefined && value < node.minimum) add('minimum', `must be ≥ ${node.minimum}`);
      if (node.maximum !== undefined && value > node.maximum) add('maximum', `must be ≤ ${node.maximum}`);
      break;
    }
    case 'boolean':
      if (typeof value !== 'boolean') add('type', `must be a boolean, got ${typeName(value)}`);
      break;
    case 'quantity':
      if (typeof value === 'number' ? !Number.isInteger(value) : typeof value !== 'string') {
        add('type', `must be a quantity (an integer or a string such as "200Gi"), got ${typeName(value)}`);
      } else if (typeof value === 'string' && !quantityRe.test(value)) {
        add('quantity', `must be a quantity such as "200Gi" or "500M", got "${value}"`);
      }
      break;
    case 'opaque':
      if (!isPlainObject(value)) add('type', `must be an object, got ${typeName(value)}`);
      break;
    case 'map': {
      if (!isPlainObject(value)) {
        add('type', `must be an object, got ${typeName(value)}`);
        break;
      }
      let bytes = 0;
      for (const [key, v] of Object.entries(value)) {
        const at = joinPath(path, key);
        if (node.keys)
          issues.push(
            ...check(node.keys, key, at, warnings).map((i) => ({ ...i, message: `key ${i.message}` })),
          );
        issues.push(...check(node.values, v, at, warnings));
        bytes += utf8.encode(key).length + (typeof v === 'string' ? utf8.encode(v).length : 0);
      }
      if (node.maxTotalBytes !== undefined && bytes > node.maxTotalBytes)
        add('maxSize', `must be at most ${node.maxTotalBytes} bytes in all (keys and values), got ${bytes}`);
      break;
    }
    case 'array': {
      if (!Array.isArray(value)) {
        add('type', `must be an array, got ${typeName(value)}`);
        break;
      }
      if (node.minItems !== undefined && value.length < node.minItems) {
        add('minItems', `must have at least ${node.minItems} item${node.minItems === 1 ? '' : 's'}`);
      }
      if (node.maxItems !== undefined && value.length > node.maxItems) {
        add('maxItems', `must have at most ${node.maxItems} items`);
      }
      value.forEach((item, i) => issues.push(...check(node.items, item, joinPath(path, i), warnings)));
      if (node.mapKeys) issues.push(...duplicateKeys(value, node.mapKeys, path));
      break;
    }
    case 'object': {
      if (!isPlainObject(value)) {
        add('type', `must be an object, got ${typeName(value)}`);
        break;
      }
      for (const key of node.required ?? []) {
        if (value[key] === undefined || value[key] === null)
          add('required', 'is required', joinPath(path, key));
      }
      for (const [key, v] of Object.entries(value)) {
        const child = node.properties[key];
        if (child) {
          if (v !== undefined && v !== null) issues.push(...check(child, v, joinPath(path, key), warnings));
        } else if (!node.preserveUnknownFields) {
          add('unknownField', 'is not a known field', joinPath(path, key));
        }
      }
      // Cross-field rules judge an object only when its own fields have sound types and values.
      const prefix = path ? `${path}.` : '';
      const direct = issues.some(
        (i) => i.path.startsWith(prefix) && !/[.[]/.test(i.path.slice(prefix.length)),
      );
      if (!direct) {
        for (const r of node.rules ?? []) {
          if (r.check(value)) continue;
          const at = r.field ? joinPath(path, r.field) : path;
          if (r.severity === 'warning') warnings.push({ path: at, rule: r.rule, message: r.message });
          else add(r.rule, r.message, at);
        }
      }
      break;
    }
  }
  return issues;
}

function duplicateKeys(items: unknown[], keys: readonly string[], path: string): ValidationIssue[] {
  const seen = new Set<string>();
  const issues: ValidationIssue[] = [];
  items.forEach((item, i) => {
    if (!isPlainObject(item)) return;
    const id = JSON.stringify(keys.map((k) => item[k]));
    if (seen.has(id)) {
      const what = keys.map((k) => `${k} "${String(item[k])}"`).join(', ');
      issues.push({
        path: joinPath(joinPath(path, i), keys[0]),
        rule: 'unique',
        message: `duplicate ${what}`,
      });
    }
    seen.add(id);
  });
  return issues;
}
