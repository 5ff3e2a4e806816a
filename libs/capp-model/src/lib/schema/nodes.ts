/**
 * A small schema language: the one source of truth for Capp validation.
 *
 * Every rule lives on a node exactly once and carries the TypeScript check, the user-facing message and
 * (for rules OpenAPI cannot express) the CEL expression. From these nodes come the CRD's structural
 * OpenAPI schema, `validateCapp`, and the class-validator classes used by the API.
 */

interface RuleBase {
  /** Stable rule id reported to users, e.g. `maxReplicasAtLeastMinReplicas`. */
  readonly rule: string;
  /** Path of the offending field relative to the object that owns the rule, e.g. `maxReplicas`. */
  readonly field?: string;
  readonly message: string;
  /** The rule in TypeScript; `self` is the object, already known to be a plain object. */
  readonly check: (self: Record<string, unknown>) => boolean;
}

/** A rule that relates several fields of one object; breaking it makes the object invalid. */
export interface ErrorRule extends RuleBase {
  readonly severity?: 'error';
  /** The same rule as a CEL expression, evaluated by the API server with `self` bound to the object. */
  readonly cel: string;
}

/**
 * A rule an object may break and stay valid — it is probably not what its author meant. Not in the
 * CRD and never a refusal: `cappWarnings` reports it (the CLI prints it, the admission webhook returns
 * it for kubectl to print, the API sends it in a `Warning` header).
 */
export interface WarningRule extends RuleBase {
  readonly severity: 'warning';
}

/** A rule on several fields of one object (an error rule becomes an `x-kubernetes-validations` entry). */
export type CrossFieldRule = ErrorRule | WarningRule;

export const isErrorRule = (r: CrossFieldRule): r is ErrorRule => r.severity !== 'warning';

interface NodeBase {
  readonly description?: string;
  readonly default?: unknown;
}

export interface StringNode extends NodeBase {
  readonly kind: 'string';
  readonly enum?: readonly string[];
  readonly pattern?: { readonly regex: string; readonly message: string };
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly format?: string;
}

export interface IntegerNode extends NodeBase {
  readonly kind: 'integer';
  readonly minimum?: number;
  readonly maximum?: number;
  readonly format: 'int32' | 'int64';
}

export interface BooleanNode extends NodeBase {
  readonly kind: 'boolean';
}

/** A Kubernetes resource.Quantity: an int or a string such as `200Gi`. */
export interface QuantityNode extends NodeBase {
  readonly kind: 'quantity';
}

export interface ObjectNode extends NodeBase {
  readonly kind: 'object';
  readonly properties: Readonly<Record<string, SchemaNode>>;
  readonly required?: readonly string[];
  readonly rules?: readonly CrossFieldRule[];
  /** Fields beyond `properties` are kept (and not checked): used for Kubernetes types we pass through. */
  readonly preserveUnknownFields?: boolean;
}

export interface MapNode extends NodeBase {
  readonly kind: 'map';
  readonly values: SchemaNode;
  /** What every key must be (e.g. a Kubernetes qualified name for labels and annotations). */
  readonly keys?: StringNode;
  /** Upper bound of the UTF-8 size of all keys and values together (annotations: 256 KiB). */
  readonly maxTotalBytes?: number;
}

export interface ArrayNode extends NodeBase {
  readonly kind: 'array';
  readonly items: SchemaNode;
  readonly minItems?: number;
  readonly maxItems?: number;
  /** Items are unique by these keys (`x-kubernetes-list-type: map`). */
  readonly mapKeys?: readonly string[];
}

/** Any JSON object, kept as is (e.g. pod template metadata). */
export interface OpaqueObjectNode extends NodeBase {
  readonly kind: 'opaque';
}

export type SchemaNode =
  StringNode | IntegerNode | BooleanNode | QuantityNode | ObjectNode | MapNode | ArrayNode | OpaqueObjectNode;

type Options<T extends SchemaNode> = Omit<T, 'kind'>;

export const s = {
  string: (o: Options<StringNode> = {}): StringNode => ({ kind: 'string', ...o }),
  integer: (o: Partial<Options<IntegerNode>> = {}): IntegerNode => ({
    kind: 'integer',
    format: 'int32',
    ...o,
  }),
  boolean: (o: Options<BooleanNode> = {}): BooleanNode => ({ kind: 'boolean', ...o }),
  quantity: (o: Options<QuantityNode> = {}): QuantityNode => ({ kind: 'quantity', ...o }),
  object: (o: Options<ObjectNode>): ObjectNode => ({ kind: 'object', ...o }),
  map: (o: Options<MapNode>): MapNode => ({ kind: 'map', ...o }),
  array: (o: Options<ArrayNode>): ArrayNode => ({ kind: 'array', ...o }),
  opaque: (o: Options<OpaqueObjectNode> = {}): OpaqueObjectNode => ({ kind: 'opaque', ...o }),
};

/** The grammar of a Kubernetes quantity (same expression the API machinery publishes). */
export const QUANTITY_PATTERN =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads `a.b.c` from an object, `undefined` when any step is missing. */
export function readPath(obj: Record<string, unknown>, dotted: string): unknown {
  let cur: unknown = obj;
  for (const key of dotted.split('.')) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}
