module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'knative-adapter',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
