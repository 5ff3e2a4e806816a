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
});
