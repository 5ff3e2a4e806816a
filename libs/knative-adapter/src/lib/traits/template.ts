import jsonata from 'jsonata';

/**
 * Trait templates are JSONata expressions (https://jsonata.org): conditionals, iteration over maps
 * into lists (`$each`), JSON encoding (`$string`), no access to JavaScript, the process or the network.
 * Compiled once per text; each evaluation is bounded in depth and time, and deterministic — so its
 * result is remembered per template and per the part of the input the template reads (see
 * {@link readsOf}): the same trait with the same properties on many Capps is evaluated once, and a
 * resync of a converged Capp evaluates nothing.
 */
interface Compiled {
  expr: jsonata.Expression;
  /** Distinguishes the template in the result cache's keys. */
  id: number;
  reads: Reads;
}
const compiled = new Map<string, Compiled>();
const MAX_COMPILED = 1000;
let nextId = 0;

/**
 * What of its input a template can read: everything (it names the input itself — `$`, `$$` — or
 * reaches fields without naming them: `*`, `**`, `%`, `$eval`), or per top-level input field
 * (`parameter`, `context`, `processing`) either all of it or the named sub-fields (`context.name`).
 * A field the template never names cannot change its result.
 */
type Reads = { everything: true } | { everything: false; fields: Map<string, Set<string> | 'all'> };

/** A path step with nothing but its name (no predicate, stage, focus, index, group…). */
const plainStep = (step: Record<string, unknown>): boolean =>
  Object.keys(step).every((k) => k === 'type' || k === 'value' || k === 'position');

/** Walks a JSONata AST for {@link Reads} (conservative: anything unusual reads more). */
function readsOf(ast: unknown): Reads {
  const fields = new Map<string, Set<string> | 'all'>();
  let everything = false;
  const all = (name: string): void => void fields.set(name, 'all');
  const sub = (name: string, field: string): void => {
    const known = fields.get(name);
    if (known === 'all') return;
    fields.set(name, (known ?? new Set()).add(field));
  };
  const walk = (node: unknown): void => {
    if (everything || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const n of node) walk(n);
      return;
    }
    const n = node as Record<string, unknown>;
    let rest: unknown[] = [];
    switch (n['type']) {
      case 'path': {
        const steps = (n['steps'] as Array<Record<string, unknown>> | undefined) ?? [];
        const [first, second] = steps;
        const rooted =
          first !== undefined &&
          plainStep(first) &&
          (first['type'] === 'name' ||
            (first['type'] === 'variable' && first['value'] !== '' && first['value'] !== '$'));
        if (!rooted) break;
        const name = String(first['value']);
        if (name === 'eval') everything = true;
        if (second !== undefined && second['type'] === 'name' && plainStep(second)) {
          sub(name, String(second['value']));
          rest = steps.slice(2);
        } else {
          all(name);
          rest = steps.slice(1);
        }
        for (const [k, v] of Object.entries(n)) if (k !== 'steps') rest.push(v);
        for (const r of rest) walk(r);
        return;
      }
      case 'name':
        all(String(n['value']));
        break;
      case 'variable':
        // `$` and `$$` are the input itself; `$eval` evaluates text it is given.
        if (n['value'] === '' || n['value'] === '$' || n['value'] === 'eval') everything = true;
        else all(String(n['value']));
        break;
      case 'wildcard':
      case 'descendant':
      case 'parent':
        everything = true;
        break;
    }
    for (const [k, v] of Object.entries(n)) if (k !== 'position') walk(v);
  };
  walk(ast);
  return everything ? { everything: true } : { everything: false, fields };
}

/** The part of `input` a template reads, as text: its results are remembered under it. */
function readKey(reads: Reads, input: Record<string, unknown>): string {
  if (reads.everything) return JSON.stringify(input);
  const picked: Record<string, unknown> = {};
  for (const [name, fields] of reads.fields) {
    if (!(name in input)) continue;
    const value = input[name];
    if (fields === 'all' || value === null || typeof value !== 'object' || Array.isArray(value)) {
      picked[name] = value;
      continue;
    }
    const part: Record<string, unknown> = {};
    for (const f of fields) part[f] = (value as Record<string, unknown>)[f];
    picked[name] = part;
  }
  return JSON.stringify(picked);
}

/** Results by template and the input it reads (JSON text, parsed afresh for each caller). */
const results = new Map<string, string | undefined>();
const MAX_RESULTS = 10_000;

/** A template that does not compile or fails to evaluate. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/** Bounds of one evaluation: a template recursing without end must not hold up the operator. */
const MAX_DEPTH = 200;
const MAX_MS = 100;

/** Per-evaluation state, found by the hooks through the evaluation's own bindings. */
const GUARD = '__cappGuard';
interface Guard {
  depth: number;
  steps: number;
  deadline: number;
}

type Frame = { lookup(name: string): unknown };
const guardOf = (env: Frame): Guard | undefined => env.lookup(GUARD) as Guard | undefined;

/**
 * Functions of JSONata whose answer changes from one call to the next: a template using them would
 * render differently on every resync (and write every time). Refused.
 */
const IMPURE = ['now', 'millis', 'random'];
const refuse = (name: string) => (): never => {
  throw new Error(`$${name}() is not allowed: templates must give the same result every time`);
};
const PURE_BINDINGS = Object.fromEntries(IMPURE.map((n) => [n, refuse(n)]));

function compile(text: string): Compiled {
  let entry = compiled.get(text);
  if (!entry) {
    let expr: jsonata.Expression;
    try {
      expr = jsonata(text);
    } catch (err) {
      throw new TemplateError(describe(err));
    }
    // JSONata's evaluation hooks (as its own test suite bounds time and depth).
    const hooks = expr as unknown as { assign(name: symbol, value: unknown): void };
    hooks.assign(Symbol.for('jsonata.__evaluate_entry'), (_e: unknown, _input: unknown, env: Frame) => {
      const g = guardOf(env);
      if (!g) return;
      if (++g.depth > MAX_DEPTH)
        throw new Error(`the template nests deeper than ${MAX_DEPTH} (endless recursion?)`);
      if ((++g.steps & 255) === 0 && performance.now() > g.deadline)
        throw new Error(`the template took longer than ${MAX_MS} ms (endless recursion?)`);
    });
    hooks.assign(Symbol.for('jsonata.__evaluate_exit'), (_e: unknown, _input: unknown, env: Frame) => {
      const g = guardOf(env);
      if (g) g.depth--;
    });
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    entry = { expr, id: nextId++, reads: readsOf(expr.ast()) };
    compiled.set(text, entry);
  }
  return entry;
}

function describe(err: unknown): string {
  const e = err as { message?: string; position?: number };
  const at = typeof e.position === 'number' ? ` (at character ${e.position})` : '';
  return `${e.message ?? String(err)}${at}`;
}

/** Checks that a template compiles; the message otherwise. */
export function templateProblem(text: string): string | undefined {
  try {
    compile(text);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Evaluates a template over `input` (its fields are also bound as `$parameter`, `$context`…). The
 * result is plain JSON: JSONata's sequences become arrays, undefined fields are left out.
 */
export async function evaluateTemplate(text: string, input: Record<string, unknown>): Promise<unknown> {
  const { expr, id, reads } = compile(text);
  const key = `${id}\u0000${readKey(reads, input)}`;
  if (results.has(key)) {
    const known = results.get(key);
    return known === undefined ? undefined : JSON.parse(known);
  }
  let value: unknown;
  try {
    const guard: Guard = { depth: 0, steps: 0, deadline: performance.now() + MAX_MS };
    value = await expr.evaluate(input, { ...input, ...PURE_BINDINGS, [GUARD]: guard });
  } catch (err) {
    throw new TemplateError(describe(err)); // not remembered: the next evaluation fails the same way
  }
  const json = value === undefined ? undefined : JSON.stringify(value);
  if (results.size >= MAX_RESULTS) results.clear();
  results.set(key, json);
  return json === undefined ? undefined : JSON.parse(json);
}

/** How many template results are remembered (for tests). */
export function rememberedResults(): number {
  return results.size;
}
