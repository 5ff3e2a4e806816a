import { isPlainObject, sameJson } from '@capp/capp-model';

/**
 * The patch engine of traits (DESIGN §8, docs/traits.md): strategic merge by Kubernetes' merge keys
 * and directives, RFC 7386 JSON merge patch and RFC 6902 JSON patch — each recording who set what,
 * so that a trait changing a value the Capp or an earlier trait set is a conflict, never silent.
 * Pure: inputs are not modified.
 */

type Json = unknown;
type JsonObject = Record<string, unknown>;

/** One step of a path: an object key, a list element found by its merge key, or a list index. */
export type PathStep = string | { key: string; value: unknown } | number;

/**
 * `spec.template.spec.containers[name=app].env[name=LOG].value`, `metadata.annotations["a.b/c"]`:
 * how paths read in messages.
 */
export function formatPath(path: readonly PathStep[]): string {
  let out = '';
  for (const step of path) {
    if (typeof step === 'string')
      out += /^[A-Za-z_][A-Za-z0-9_-]*$/.test(step) ? (out ? `.${step}` : step) : `[${JSON.stringify(step)}]`;
    else if (typeof step === 'number') out += `[${step}]`;
    else out += `[${step.key}=${String(step.value)}]`;
  }
  return out || '<root>';
}

/** A trait set a value that the Capp or an earlier trait set to something else. */
export interface PatchConflict {
  /** Where, e.g. `spec.template.spec.containers[name=web].image`. */
  path: string;
  /** Who set the value first: `the Capp` or `trait "<name>"`. */
  first: string;
  /** Who tried to set another. */
  second: string;
}

/** A patch that cannot be applied as written (a keyed list item without its key, a failed JSON patch test…). */
export class PatchError extends Error {
  override readonly name = 'PatchError';

  constructor(
    message: string,
    readonly path: string,
  ) {
    super(`${path}: ${message}`);
  }
}

/** The source of what the Capp itself renders. */
export const CAPP_SOURCE = 'the Capp';

/**
 * Who set each value of one child: a path missing here was set by the Capp's own render. Shared by the
 * traits applied to the child in turn.
 */
export class Ledger {
  private readonly owners = new Map<string, string>();
  readonly conflicts: PatchConflict[] = [];

  ownerOf(path: string): string {
    return this.owners.get(path) ?? CAPP_SOURCE;
  }

  set(path: string, source: string): void {
    this.owners.set(path, source);
  }

  /** Forgets `path` and what is beneath it (deleted, replaced or dropped by `$retainKeys`). */
  clear(path: string): void {
    for (const key of [...this.owners.keys()])
      if (key === path || key.startsWith(`${path}.`) || key.startsWith(`${path}[`)) this.owners.delete(key);
  }

  /** Records `source` as the owner of every leaf of `value` at `path`. */
  claim(path: readonly PathStep[], value: Json, source: string): void {
    if (isPlainObject(value) && Object.keys(value).length > 0) {
      for (const [k, v] of Object.entries(value)) this.claim([...path, k], v, source);
    } else this.set(formatPath(path), source);
  }

  /** Sets a scalar (or an atomic list) implicitly: a different value someone set before is a conflict. */
  assign(path: readonly PathStep[], before: Json, after: Json, source: string): void {
    const at = formatPath(path);
    if (before === undefined) this.set(at, source);
    else if (before === after)
      return; // the same value: whoever set it first stays its source
    else if (typeof before === 'object' || typeof after === 'object' ? !sameJson(before, after) : true) {
      const first = this.ownerOf(at);
      if (first !== source) this.conflicts.push({ path: at, first, second: source });
      this.set(at, source);
    } // the same value: whoever set it first stays its source
  }
}

// --- strategic merge

/** What one child is, for the merge keys that depend on it (a core Service's ports merge by `port`). */
export interface PatchTarget {
  apiVersion: string;
  kind: string;
}

const NAME_KEYED = new Set([
  'containers',
  'initContainers',
  'ephemeralContainers',
  'env',
  'volumes',
  'imagePullSecrets',
  'resourceClaims',
]);

/**
 * The merge key Kubernetes declares for a list (`patchMergeKey` in its Go types), by the list's field
 * name; undefined for atomic lists (args, command, tolerations, traffic…), which a patch replaces whole.
 */
export function mergeKeyFor(path: readonly PathStep[], target: PatchTarget): string | undefined {
  const field = path[path.length - 1];
  if (typeof field !== 'string') return undefined;
  if (NAME_KEYED.has(field)) return 'name';
  switch (field) {
    case 'volumeMounts':
      return 'mountPath';
    case 'volumeDevices':
      return 'devicePath';
    case 'ports':
      return target.apiVersion === 'v1' && target.kind === 'Service' && path.length === 2
        ? 'port'
        : 'containerPort';
    case 'hostAliases':
      return 'ip';
    case 'topologySpreadConstraints':
      return 'topologyKey';
    case 'conditions':
      return 'type';
    case 'ownerReferences':
      return 'uid';
    default:
      return undefined;
  }
}

const DELETE = Symbol('delete');

const isDirective = (key: string): boolean => key.startsWith('$');

/** The patch without its directives, at every depth (what a `$patch: replace` puts in place). */
function withoutDirectives(value: Json): Json {
  if (Array.isArray(value))
    return value.filter((v) => !(isPlainObject(v) && v['$patch'] === 'delete')).map(withoutDirectives);
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k, v]) => !isDirective(k) && v !== null)
      .map(([k, v]) => [k, withoutDirectives(v)]),
  );
}

class StrategicMerge {
  constructor(
    private readonly target: PatchTarget,
    private readonly ledger: Ledger,
    private readonly source: string,
  ) {}

  value(before: Json, patch: Json, path: PathStep[]): Json | typeof DELETE {
    if (isPlainObject(patch)) {
      if (before !== undefined && !isPlainObject(before)) {
        this.ledger.assign(path, before, withoutDirectives(patch), this.source);
        return this.object(undefined, patch, path);
      }
      return this.object(before as JsonObject | undefined, patch, path);
    }
    if (Array.isArray(patch)) return this.list(before, patch, path);
    this.ledger.assign(path, before, patch, this.source);
    return patch;
  }

  private object(before: JsonObject | undefined, patch: JsonObject, path: PathStep[]): Json | typeof DELETE {
    const directive = patch['$patch'];
    const at = directive !== undefined || patch['$retainKeys'] !== undefined ? formatPath(path) : '';
    if (directive === 'delete') {
      this.ledger.clear(at);
      return DELETE;
    }
    if (directive === 'replace') {
      const replaced = withoutDirectives(patch);
      this.ledger.clear(at);
      this.ledger.claim(path, replaced, this.source);
      return replaced;
    }
    if (directive !== undefined) throw new PatchError(`unknown $patch "${String(directive)}"`, at);
    const result: JsonObject = { ...(before ?? {}) };
    for (const [key, value] of Object.entries(patch)) {
      if (isDirective(key)) continue;
      const child = [...path, key];
      if (value === null) {
        delete result[key];
        this.ledger.clear(formatPath(child));
        continue;
      }
      const merged = this.value(result[key], value, child);
      if (merged === DELETE) delete result[key];
      else result[key] = merged;
    }
    const retain = patch['$retainKeys'];
    if (retain !== undefined) {
      if (!Array.isArray(retain) || !retain.every((k) => typeof k === 'string'))
        throw new PatchError('$retainKeys must be a list of field names', at);
      for (const key of Object.keys(patch))
        if (!isDirective(key) && !retain.includes(key))
          throw new PatchError(`$retainKeys must name "${key}", which the patch sets`, at);
      for (const key of Object.keys(result))
        if (!retain.includes(key)) {
          delete result[key];
          this.ledger.clear(formatPath([...path, key]));
        }
    }
    return result;
  }

  private list(before: Json, patch: unknown[], path: PathStep[]): Json {
    const at = formatPath(path);
    const replace = patch.findIndex(
      (i) => isPlainObject(i) && i['$patch'] === 'replace' && Object.keys(i).length === 1,
    );
    if (replace >= 0) {
      const replaced = withoutDirectives(patch.filter((_, i) => i !== replace));
      this.ledger.clear(at);
      this.ledger.set(at, this.source);
      return replaced;
    }
    const explicit = patch.find(
      (i): i is JsonObject => isPlainObject(i) && typeof i['$patchKey'] === 'string',
    );
    const key = (explicit?.['$patchKey'] as string | undefined) ?? mergeKeyFor(path, this.target);
    if (!key || !patch.every(isPlainObject)) {
      const value = withoutDirectives(patch);
      this.ledger.assign(path, before, value, this.source);
      return value;
    }
    if (before !== undefined && !Array.isArray(before))
      throw new PatchError(`a list is patched onto a ${typeof before}`, at);
    const result: unknown[] = [...((before as unknown[] | undefined) ?? [])];
    for (const item of patch as JsonObject[]) {
      const id = item[key];
      if (id === undefined || id === null)
        throw new PatchError(`a list item has no "${key}", the key this list merges by`, at);
      const itemPath = [...path, { key, value: id }];
      const index = result.findIndex((o) => isPlainObject(o) && sameJson(o[key], id));
      const body: JsonObject = { ...item };
      delete body['$patchKey'];
      if (body['$patch'] === 'delete') {
        if (index >= 0) result.splice(index, 1);
        this.ledger.clear(formatPath(itemPath));
        continue;
      }
      const merged = this.object(index >= 0 ? (result[index] as JsonObject) : undefined, body, itemPath);
      if (merged === DELETE) {
        if (index >= 0) result.splice(index, 1);
      } else if (index >= 0) result[index] = merged;
      else result.push(merged);
    }
    return result;
  }
}

/**
 * Strategic merge of `patch` into `doc` (Kubernetes' strategic merge patch: lists by their merge key or
 * `$patchKey`, `$retainKeys`, `$patch: replace | delete`, `null` deletes). Conflicts go to `ledger`.
 */
export function strategicMerge(
  doc: JsonObject,
  patch: Json,
  target: PatchTarget,
  ledger: Ledger,
  source: string,
): JsonObject {
  if (!isPlainObject(patch)) throw new PatchError('a strategic merge patch must be an object', '<root>');
  const merged = new StrategicMerge(target, ledger, source).value(doc, patch, []);
  return (merged === DELETE ? {} : merged) as JsonObject;
}

// --- RFC 7386 JSON merge patch

function mergePatchValue(before: Json, patch: Json, path: PathStep[], ledger: Ledger, source: string): Json {
  if (!isPlainObject(patch)) {
    ledger.assign(path, before, patch, source);
    return patch;
  }
  if (before !== undefined && !isPlainObject(before)) ledger.assign(path, before, patch, source);
  const result: JsonObject = isPlainObject(before) ? { ...before } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[key];
      ledger.clear(formatPath([...path, key]));
    } else result[key] = mergePatchValue(result[key], value, [...path, key], ledger, source);
  }
  return result;
}

/** RFC 7386: objects merge, anything else (lists too) replaces, `null` deletes. */
export function jsonMergePatch(doc: JsonObject, patch: Json, ledger: Ledger, source: string): JsonObject {
  if (!isPlainObject(patch)) throw new PatchError('a JSON merge patch must be an object', '<root>');
  return mergePatchValue(doc, patch, [], ledger, source) as JsonObject;
}

// --- RFC 6902 JSON patch

interface Operation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
}

function pointer(p: unknown, field: string): string[] {
  if (typeof p !== 'string' || (p !== '' && !p.startsWith('/')))
    throw new PatchError(`"${field}" must be a JSON pointer such as /spec/template`, field);
  return p === ''
    ? []
    : p
        .slice(1)
        .split('/')
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The readable path of a pointer in `doc` (list elements by their `name` when they have one). */
function describe(doc: Json, tokens: readonly string[]): PathStep[] {
  const out: PathStep[] = [];
  let cur = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) {
      const i = t === '-' ? cur.length : Number(t);
      const el = cur[i];
      out.push(isPlainObject(el) && typeof el['name'] === 'string' ? { key: 'name', value: el['name'] } : i);
      cur = el;
    } else {
      out.push(t);
      cur = isPlainObject(cur) ? cur[t] : undefined;
    }
  }
  return out;
}

function container(doc: Json, tokens: readonly string[], at: string): Json {
  let cur = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isPlainObject(cur)) cur = cur[t];
    else cur = undefined;
    if (cur === undefined) throw new PatchError('no such location', at);
  }
  return cur;
}

function get(doc: Json, tokens: readonly string[], at: string): Json {
  if (tokens.length === 0) return doc;
  const parent = container(doc, tokens.slice(0, -1), at);
  const last = tokens[tokens.length - 1];
  const value = Array.isArray(parent)
    ? parent[Number(last)]
    : isPlainObject(parent)
      ? parent[last]
      : undefined;
  if (value === undefined) throw new PatchError('no such location', at);
  return value;
}

function index(list: unknown[], token: string, at: string, adding: boolean): number {
  if (adding && token === '-') return list.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchError(`"${token}" is not a list index`, at);
  const i = Number(token);
  if (i > list.length || (!adding && i === list.length)) throw new PatchError('list index out of range', at);
  return i;
}

/**
 * RFC 6902: the operations in order, on a copy. `replace` and `remove` are explicit and never
 * conflicts; `add` over a member someone set to another value is one.
 */
export function jsonPatch(doc: JsonObject, ops: Json, ledger: Ledger, source: string): JsonObject {
  if (!Array.isArray(ops)) throw new PatchError('a JSON patch must be a list of operations', '<root>');
  let out: Json = structuredClone(doc);
  ops.forEach((raw, n) => {
    if (!isPlainObject(raw)) throw new PatchError('an operation must be an object', `[${n}]`);
    const op = raw as unknown as Operation;
    const tokens = pointer(op.path, 'path');
    const at = formatPath(describe(out, tokens));
    const write = (toks: string[], value: Json, explicit: boolean): void => {
      const where = describe(out, toks);
      if (toks.length === 0) {
        out = value;
        return;
      }
      const parent = container(out, toks.slice(0, -1), formatPath(where));
      const last = toks[toks.length - 1];
      if (Array.isArray(parent)) parent.splice(index(parent, last, formatPath(where), true), 0, value);
      else if (isPlainObject(parent)) {
        if (explicit) {
          ledger.clear(formatPath(where));
          ledger.claim(where, value, source);
        } else ledger.assign(where, parent[last], value, source);
        parent[last] = value;
      } else throw new PatchError('no such location', formatPath(where));
      if (Array.isArray(parent)) ledger.claim(where, value, source);
    };
    const remove = (toks: string[]): Json => {
      const where = formatPath(describe(out, toks));
      const value = get(out, toks, where);
      const parent = container(out, toks.slice(0, -1), where);
      const last = toks[toks.length - 1];
      if (Array.isArray(parent)) parent.splice(index(parent, last, where, false), 1);
      else delete (parent as JsonObject)[last];
      ledger.clear(where);
      return value;
    };
    switch (op.op) {
      case 'add':
        write(tokens, structuredClone(op.value), false);
        break;
      case 'remove':
        remove(tokens);
        break;
      case 'replace':
        get(out, tokens, at);
        if (tokens.length > 0 && Array.isArray(container(out, tokens.slice(0, -1), at))) {
          const parent = container(out, tokens.slice(0, -1), at) as unknown[];
          parent[index(parent, tokens[tokens.length - 1], at, false)] = structuredClone(op.value);
          ledger.clear(at);
          ledger.claim(describe(out, tokens), op.value, source);
        } else write(tokens, structuredClone(op.value), true);
        break;
      case 'move': {
        const from = pointer(op.from, 'from');
        write(tokens, remove(from), true);
        break;
      }
      case 'copy': {
        const from = pointer(op.from, 'from');
        write(tokens, structuredClone(get(out, from, formatPath(describe(out, from)))), false);
        break;
      }
      case 'test':
        if (!sameJson(get(out, tokens, at), op.value))
          throw new PatchError('test failed: the value differs', at);
        break;
      default:
        throw new PatchError(`unknown op "${String((raw as JsonObject)['op'])}"`, `[${n}]`);
    }
  });
  if (!isPlainObject(out)) throw new PatchError('the patch must leave an object', '<root>');
  return out;
}
