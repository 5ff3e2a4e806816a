module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'capp-model',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
