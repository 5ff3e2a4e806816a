import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The module-boundary rules must really bite: each case writes a file that breaks one, then ESLint runs on them. */
const root = join(__dirname, '..');

const cases: Array<[string, string, string, RegExp]> = [
  [
    'the domain lib importing the adapter lib',
    'libs/capp-model/src/lib/__probe_adapter.ts',
    "import '@capp/knative-adapter';",
    /Circular dependency between "capp-model" and "knative-adapter"|tagged with "type:domain" can only depend on/,
  ],
  [
    'the domain lib importing @kubernetes/client-node',
    'libs/capp-model/src/lib/__probe_client.ts',
    "import '@kubernetes/client-node';",
    /tagged with "type:domain" is not allowed to import "@kubernetes\/client-node"/,
  ],
  [
    'the adapter lib importing @kubernetes/client-node',
    'libs/knative-adapter/src/lib/__probe_client.ts',
    "import '@kubernetes/client-node';",
    /tagged with "type:adapter" is not allowed to import "@kubernetes\/client-node"/,
  ],
  [
    'a lib importing an app',
    'libs/knative-adapter/src/lib/__probe_app.ts',
    "import '../../../../apps/cli/src/commands';",
    /Projects cannot be imported by a relative or absolute path/i,
  ],
];

interface LintResult {
  filePath: string;
  messages: Array<{ ruleId: string | null; message: string }>;
}

describe('module boundaries', () => {
  let results: LintResult[] = [];

  beforeAll(() => {
    execFileSync('npx', ['nx', 'show', 'projects'], {
      cwd: root,
      env: { ...process.env, NX_DAEMON: 'false' },
    });
    for (const [, file, source] of cases)
      writeFileSync(join(root, file), `${source}\nexport const probe = 1;\n`);
    try {
      const run = spawnSync('npx', ['eslint', '--format', 'json', ...cases.map(([, file]) => file)], {
        cwd: root,
        encoding: 'utf8',
      });
      results = JSON.parse(run.stdout) as LintResult[];
    } finally {
      for (const [, file] of cases) rmSync(join(root, file), { force: true });
    }
  }, 120_000);

  it.each(cases)('forbid %s', (_title, file, _source, message) => {
    const result = results.find((r) => r.filePath === join(root, file));
    const boundary = (result?.messages ?? []).filter((m) => m.ruleId === '@nx/enforce-module-boundaries');
    expect(boundary.map((m) => m.message).join('\n')).toMatch(message);
  });
});
