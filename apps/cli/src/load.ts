import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { isPlainObject } from '@capp/capp-model';
import { parseAllDocuments } from 'yaml';

/** A problem with the user's input file: printed as one line, exit code 2. */
export class InputError extends Error {}

/** Reads a file holding exactly one YAML (or JSON) object of the expected kind. */
export function loadObject(file: string, expectedKind: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: cannot read file${code ? ` (${code})` : ''}`);
  }
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new InputError(`${file}: not YAML`);
  const nonEmpty = docs.filter((d) => d.contents !== null);
  const broken = nonEmpty.find((d) => d.errors.length > 0);
  if (broken) {
    const first = broken.errors[0];
    const line = first.linePos?.[0]?.line;
    throw new InputError(
      `${file}: not valid YAML${line ? ` (line ${line})` : ''}: ${first.message.split('\n')[0]}`,
    );
  }
  if (nonEmpty.length === 0) throw new InputError(`${file}: no YAML document found`);
  if (nonEmpty.length > 1) {
    throw new InputError(
      `${file}: holds ${nonEmpty.length} YAML documents; give one ${expectedKind} per file`,
    );
  }
  const obj: unknown = nonEmpty[0].toJS();
  if (!isPlainObject(obj))
    throw new InputError(`${file}: expected a ${expectedKind} object, got ${describe(obj)}`);
  if (obj['kind'] !== expectedKind) {
    throw new InputError(
      `${file}: expected kind ${expectedKind}, got ${obj['kind'] === undefined ? 'no kind' : JSON.stringify(obj['kind'])}`,
    );
  }
  return obj;
}

/**
 * Every object of the YAML (or JSON) files of a directory (`*.yaml`, `*.yml`, `*.json`, several
 * documents per file allowed), each with its file; used for `--traits DIR`.
 */
export function loadDirectory(
  dir: string,
  expectedKind: string,
): Array<{ file: string; obj: Record<string, unknown> }> {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new InputError(`${dir}: not a directory`);
    names = readdirSync(dir)
      .filter((n) => /\.(ya?ml|json)$/.test(n))
      .sort();
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${dir}: cannot read directory${code ? ` (${code})` : ''}`);
  }
  const out: Array<{ file: string; obj: Record<string, unknown> }> = [];
  for (const name of names) {
    const file = join(dir, name);
    const docs = parseAllDocuments(readFileSync(file, 'utf8'));
    if (!Array.isArray(docs)) throw new InputError(`${file}: not YAML`);
    for (const doc of docs.filter((d) => d.contents !== null)) {
      if (doc.errors.length)
        throw new InputError(`${file}: not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
      const obj: unknown = doc.toJS();
      if (!isPlainObject(obj) || obj['kind'] !== expectedKind)
        throw new InputError(`${file}: expected kind ${expectedKind} in every document`);
      out.push({ file, obj });
    }
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}
