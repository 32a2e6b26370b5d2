/** @type {import('jest').Config} */
const base = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }] },
  moduleNameMapper: { '^@jobs/(.*)$': '<rootDir>/packages/$1/src' },
  setupFiles: ['<rootDir>/test/support/jest-env.ts'],
};

module.exports = {
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...base, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
    // Each file starts its own local Redis Cluster (test/support/redis-cluster.ts).
    { ...base, displayName: 'cluster', testMatch: ['<rootDir>/test/cluster/**/*.test.ts'] },
  ],
  testTimeout: 30000,
  // Jest's default on a two-core machine is one worker; most suites wait on timers, Redis and Postgres rather than
  // CPU, and every suite has its own database and key prefix, so two run side by side.
  maxWorkers: 2,
};
