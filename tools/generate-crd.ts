/** Writes the CRDs generated from `@capp/capp-model` into the Helm chart. `--check` fails when one is stale. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { platformCrds } from '@capp/capp-model';

const check = process.argv.includes('--check');
let stale = false;
for (const { file, yaml } of platformCrds()) {
  const target = join(__dirname, '..', file);
  if (check) {
    if (readFileSync(target, 'utf8') !== yaml) {
      console.error(`${file} is stale: run npm run crd:generate`);
      stale = true;
    }
  } else {
    writeFileSync(target, yaml);
    console.log(`wrote ${file}`);
  }
}
if (stale) process.exit(1);
