/** Writes the Capp CRD generated from `@capp/capp-model` into the Helm chart. `--check` fails when stale. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { CAPP_CRD_FILE, cappCrdYaml } from '@capp/capp-model';

const target = join(__dirname, '..', CAPP_CRD_FILE);
const wanted = cappCrdYaml();
if (process.argv.includes('--check')) {
  if (readFileSync(target, 'utf8') !== wanted) {
    console.error(`${CAPP_CRD_FILE} is stale: run npm run crd:generate`);
    process.exit(1);
  }
} else {
  writeFileSync(target, wanted);
  console.log(`wrote ${CAPP_CRD_FILE}`);
}
