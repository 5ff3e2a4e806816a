/**
 * Resolves the workspace path aliases (`@capp/*` from tsconfig.base.json) for plain Node `require`.
 *
 * jest loads `globalSetup`/`globalTeardown` with Node's own module loader (only transpiled), so the
 * preset's `moduleNameMapper` does not apply there; this hook gives them the same aliases.
 * `tools/run-ts.cjs` does not need it (@swc-node/register reads the paths itself).
 */
import Module from 'node:module';
import { join } from 'node:path';

import { REPO_ROOT } from './paths';

type Resolve = (request: string, ...rest: unknown[]) => string;
const INSTALLED = Symbol.for('capp.testing.registerPaths');

export function registerWorkspacePaths(): void {
  const g = globalThis as typeof globalThis & { [INSTALLED]?: boolean };
  if (g[INSTALLED]) return;
  g[INSTALLED] = true;

  const tsconfig = require(join(REPO_ROOT, 'tsconfig.base.json')) as {
    compilerOptions: { paths?: Record<string, string[]> };
  };
  const paths = Object.entries(tsconfig.compilerOptions.paths ?? {}).flatMap(([alias, targets]) =>
    targets[0] === undefined ? [] : [{ alias, target: join(REPO_ROOT, targets[0]) }],
  );
  const mod = Module as unknown as { _resolveFilename: Resolve };
  const original = mod._resolveFilename;
  mod._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
    for (const { alias, target } of paths) {
      if (alias === request) return original.call(this, target, ...rest);
      const star = alias.indexOf('*');
      if (star >= 0 && request.startsWith(alias.slice(0, star)) && request.endsWith(alias.slice(star + 1))) {
        const middle = request.slice(star, request.length - (alias.length - star - 1));
        return original.call(this, target.replace('*', middle), ...rest);
      }
    }
    return original.call(this, request, ...rest);
  };
}

registerWorkspacePaths();
