// Proof tests of the harness: they run against the real control plane, PostgreSQL and Redis that
// the globalSetup starts once for the run (see README.md).
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'testing',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  globalSetup: '<rootDir>/src/jest-global-setup.ts',
  globalTeardown: '<rootDir>/src/jest-global-teardown.ts',
  testTimeout: 60_000,
  // @kubernetes/client-node 1.x and its openid-client/oauth4webapi/jose dependencies ship only ES
  // modules; jest's CommonJS runtime needs them transformed like our own sources.
  transformIgnorePatterns: ['/node_modules/(?!(@kubernetes/client-node|openid-client|oauth4webapi|jose)/)'],
};
