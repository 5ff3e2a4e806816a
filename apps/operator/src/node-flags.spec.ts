import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { OPERATOR_NODE_FLAGS } from './node-flags';

const ROOT = join(__dirname, '..', '..', '..');

describe('OPERATOR_NODE_FLAGS', () => {
  it('are in the image’s entrypoint (which the chart’s args follow) and in `npm run operator`', () => {
    const dockerfile = readFileSync(join(ROOT, 'apps/operator/Dockerfile'), 'utf8');
    expect(dockerfile).not.toMatch(/^CMD /m);
    const cmd = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(JSON.parse(cmd ?? '[]')).toEqual([
      'node',
      ...OPERATOR_NODE_FLAGS,
      'dist/apps/operator/src/main.js',
    ]);
    const scripts = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    expect(scripts['operator']).toContain(
      `node ${OPERATOR_NODE_FLAGS.join(' ')} dist/apps/operator/src/main.js`,
    );
  });

  it('are accepted by this Node.js and leave WebAssembly on, which fetch (trait HTTP calls) needs', () => {
    const probe = [
      'const s = require("node:http").createServer((q, r) => r.end("ok")).listen(0, async () => {',
      '  const answer = await fetch(`http://127.0.0.1:${s.address().port}/`);',
      '  process.stdout.write(`${typeof WebAssembly} ${await answer.text()}`);',
      '  s.close();',
      '});',
    ].join('\n');
    const run = spawnSync(process.execPath, [...OPERATOR_NODE_FLAGS, '-e', probe], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('object ok');
  });
});
