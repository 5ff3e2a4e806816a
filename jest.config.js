// Runs every project; the control plane, PostgreSQL and Redis start once for the whole run.
module.exports = {
  projects: [
    '<rootDir>/libs/*/jest.config.js',
    '<rootDir>/tools/jest.config.js',
    '<rootDir>/apps/*/jest.config.js',
    '<rootDir>/e2e/jest.config.js',
  ].filter(
    (pattern) =>
      !pattern.startsWith('<rootDir>/e2e') ||
      require('node:fs').existsSync(`${__dirname}/e2e/jest.config.js`),
  ),
  maxWorkers: 2,
};
