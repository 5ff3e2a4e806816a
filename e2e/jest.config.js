// Cross-process tests: real operator processes against the real control plane of libs/testing.
module.exports = {
  ...require('../jest.preset.js'),
  displayName: 'e2e',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  globalSetup: '<rootDir>/../libs/testing/src/jest-global-setup.ts',
  globalTeardown: '<rootDir>/../libs/testing/src/jest-global-teardown.ts',
  testTimeout: 120_000,
};
