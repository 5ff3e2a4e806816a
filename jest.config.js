// One jest run over every project (libs/*, apps/*, tools, e2e), so the real control plane,
// PostgreSQL and Redis start once per run.
const { existsSync, readdirSync } = require('node:fs');
const { join } = require('node:path');

const candidates = ['libs', 'apps'].flatMap((group) =>
  existsSync(join(__dirname, group))
    ? readdirSync(join(__dirname, group)).map((name) => join(group, name))
    : [],
);
candidates.push('tools', 'e2e');

module.exports = {
  projects: candidates
    .map((dir) => join(__dirname, dir, 'jest.config.js'))
    .filter((config) => existsSync(config)),
  maxWorkers: 2,
  // testTimeout is a global option: per-project values are ignored in a multi-project run.
  testTimeout: 120_000,
  globalSetup: '<rootDir>/libs/testing/src/jest-global-setup.ts',
  globalTeardown: '<rootDir>/libs/testing/src/jest-global-teardown.ts',
};
