import jsonata from 'jsonata';

/**
 * Trait templates are JSONata expressions (https://jsonata.org): conditionals, iteration over maps
 * into lists (`$each`), JSON encoding (`$string`), no access to JavaScript, the process or the network.
 * Compiled once per text; each evaluation is bounded in depth and time, and deterministic.
 */
const compiled = new Map<string, jsonata.Expression>();
const MAX_COMPILED = 1000;

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

function compile(text: string): jsonata.Expression {
  let expr = compiled.get(text);
  if (!expr) {
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
    compiled.set(text, expr);
  }
  return expr;
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
  const expr = compile(text);
  let value: unknown;
  try {
    const guard: Guard = { depth: 0, steps: 0, deadline: performance.now() + MAX_MS };
    value = await expr.evaluate(input, { ...input, ...PURE_BINDINGS, [GUARD]: guard });
  } catch (err) {
    throw new TemplateError(describe(err));
  }
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}
