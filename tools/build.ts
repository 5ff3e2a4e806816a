/**
 * Compiles an app and the libs it uses to plain CommonJS under dist/ with SWC (path aliases rewritten
 * to relative imports), so production runs `node dist/apps/<app>/src/main.js` without a TypeScript
 * loader in memory. Usage: node tools/run-ts.cjs tools/build.ts [app ...] (default: operator; also cli, api).
 */
import { mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

import { transformFileSync } from '@swc/core';

const ROOT = join(__dirname, '..');
const { compilerOptions } = require(join(ROOT, 'tsconfig.base.json')) as {
  compilerOptions: { paths: Record<string, string[]> };
};
const SOURCES: Record<string, string[]> = {
  operator: ['apps/operator/src', 'libs/capp-model/src', 'libs/knative-adapter/src', 'libs/kube/src'],
  cli: ['apps/cli/src', 'libs/capp-model/src', 'libs/knative-adapter/src'],
  api: ['apps/api/src', 'libs/capp-model/src', 'libs/kube/src', 'prisma/generated/client'],
};

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) {
      if (entry !== 'testing') yield* sources(path);
    } else if (entry.endsWith('.ts') && !entry.endsWith('.spec.ts') && !entry.endsWith('.d.ts')) {
      yield path;
    }
  }
}

export function build(app: string): number {
  const dirs = SOURCES[app];
  if (!dirs) throw new Error(`unknown app "${app}" (known: ${Object.keys(SOURCES).join(', ')})`);
  let count = 0;
  for (const dir of dirs) {
    for (const file of sources(join(ROOT, dir))) {
      const { code } = transformFileSync(file, {
        swcrc: false,
        sourceMaps: false,
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
          baseUrl: ROOT,
          paths: compilerOptions.paths,
        },
        module: { type: 'commonjs' },
      });
      const out = join(ROOT, 'dist', relative(ROOT, file)).replace(/\.ts$/, '.js');
      mkdirSync(dirname(out), { recursive: true });
      // Write-then-rename: a process started from dist/ while another build runs (parallel e2e
      // files build their apps, which share dist/libs) never reads a half-written file.
      const partial = `${out}.${process.pid}.tmp`;
      writeFileSync(partial, code);
      renameSync(partial, out);
      count++;
    }
  }
  return count;
}

if (require.main === module) {
  for (const app of process.argv.slice(2).length ? process.argv.slice(2) : ['operator']) {
    const started = Date.now();
    const files = build(app);
    console.error(`built ${app}: ${files} files into dist/ in ${Date.now() - started} ms`);
  }
}
