import { isErrorRule, QUANTITY_PATTERN, SchemaNode } from './nodes';

export type JsonSchema = { [key: string]: unknown };

/**
 * Renders a node as a structural OpenAPI v3 schema as Kubernetes expects it in a CRD, with cross-field
 * rules as `x-kubernetes-validations` (CEL). Pass `{ cel: false }` for a plain OpenAPI document (Swagger).
 */
export function toOpenApi(node: SchemaNode, options: { cel?: boolean } = {}): JsonSchema {
  const cel = options.cel ?? true;
  const out: JsonSchema = {};
  if (node.description) out['description'] = node.description;
  if (node.default !== undefined) out['default'] = node.default;

  switch (node.kind) {
    case 'string':
      out['type'] = 'string';
      if (node.enum) out['enum'] = [...node.enum];
      if (node.format) out['format'] = node.format;
      if (node.minLength !== undefined) out['minLength'] = node.minLength;
      if (node.maxLength !== undefined) out['maxLength'] = node.maxLength;
      // As in validateNode, a pattern does not judge an empty string (v0.3.5 accepts `hostname: ""`);
      // minLength does, where set.
      if (node.pattern) out['pattern'] = node.minLength ? node.pattern.regex : `^$|${node.pattern.regex}`;
      break;
    case 'integer':
      out['type'] = 'integer';
      out['format'] = node.format;
      if (node.minimum !== undefined) out['minimum'] = node.minimum;
      if (node.maximum !== undefined) out['maximum'] = node.maximum;
      break;
    case 'boolean':
      out['type'] = 'boolean';
      break;
    case 'quantity':
      if (cel) {
        out['anyOf'] = [{ type: 'integer' }, { type: 'string' }];
        out['x-kubernetes-int-or-string'] = true;
      } else {
        out['oneOf'] = [{ type: 'integer' }, { type: 'string' }];
      }
      out['pattern'] = QUANTITY_PATTERN;
      break;
    case 'opaque':
      out['type'] = 'object';
      if (cel) out['x-kubernetes-preserve-unknown-fields'] = true;
      else out['additionalProperties'] = true;
      break;
    case 'map':
      out['type'] = 'object';
      out['additionalProperties'] = toOpenApi(node.values, options);
      // Not in a CRD's structural schema (Kubernetes checks label and annotation keys itself).
      if (node.keys && !cel) out['propertyNames'] = toOpenApi(node.keys, options);
      break;
    case 'array':
      out['type'] = 'array';
      out['items'] = toOpenApi(node.items, options);
      if (node.minItems !== undefined) out['minItems'] = node.minItems;
      if (node.maxItems !== undefined) out['maxItems'] = node.maxItems;
      if (node.mapKeys && cel) {
        out['x-kubernetes-list-type'] = 'map';
        out['x-kubernetes-list-map-keys'] = [...node.mapKeys];
      }
      break;
    case 'object': {
      out['type'] = 'object';
      out['properties'] = Object.fromEntries(
        Object.entries(node.properties).map(([k, v]) => [k, toOpenApi(v, options)]),
      );
      if (node.required?.length) out['required'] = [...node.required];
      if (node.preserveUnknownFields) {
        if (cel) out['x-kubernetes-preserve-unknown-fields'] = true;
        else out['additionalProperties'] = true;
      } else if (!cel) {
        out['additionalProperties'] = false;
      }
      const rules = (node.rules ?? []).filter(isErrorRule);
      if (cel && rules.length) {
        out['x-kubernetes-validations'] = rules.map((r) => ({
          rule: r.cel,
          message: r.message,
          ...(r.field ? { fieldPath: `.${r.field}`, reason: 'FieldValueInvalid' } : {}),
        }));
      }
      break;
    }
  }
  return out;
}
