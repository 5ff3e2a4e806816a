import jsonata from 'jsonata';

/**
 * Trait templates are JSONata expressions (https://jsonata.org): conditionals, iteration over maps
 * into lists (`$each`), JSON encoding (`$string`), no access to JavaScript, the process or the network.
 * Compiled once per text.
 */
const compiled = new Map<string, jsonata.Expression>();
const MAX_COMPILED = 1000;

/** A template that does not compile or fails to evaluate. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

function compile(text: string): jsonata.Expression {
  let expr = compiled.get(text);
  if (!expr) {
    try {
      expr = jsonata(text);
    } catch (err) {
      throw new TemplateError(describe(err));
    }
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
    value = await expr.evaluate(input, input);
  } catch (err) {
    throw new TemplateError(describe(err));
  }
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}
