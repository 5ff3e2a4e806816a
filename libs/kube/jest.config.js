module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'kube',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  // Integration specs (leader election, events, credentials) use the real control plane that
  // libs/testing starts once per run and exports through KUBECONFIG.
  globalSetup: '<rootDir>/../../libs/testing/src/jest-global-setup.ts',
  globalTeardown: '<rootDir>/../../libs/testing/src/jest-global-teardown.ts',
};
