#!/usr/bin/env node
// Runs a TypeScript entry point with SWC (decorator metadata included) and the workspace's path aliases.
'use strict';
const path = require('node:path');
process.env.SWC_NODE_PROJECT ??= path.join(__dirname, '..', 'tsconfig.base.json');
require('@swc-node/register');
const [entry, ...rest] = process.argv.slice(2);
if (!entry) {
  console.error('usage: run-ts.cjs <file.ts> [args...]');
  process.exit(2);
}
process.argv = [process.argv[0], path.resolve(entry), ...rest];
// Load the entry as the main module so `require.main === module` holds inside it.
require('node:module').runMain();
