// Three tiers (README, "Tests"): unit (no I/O), integration (real Postgres, Redis, moto),
// e2e (the four services as real processes). scripts/test.sh starts what the outer tiers need.
const swcOptions = require('./scripts/swc-options.cjs');

const base = {
  rootDir: __dirname,
  testEnvironment: 'node',
  // swc rewrites the `@app/*` aliases exactly as in the build, also in globalSetup files
  // (which jest's moduleNameMapper does not reach).
  transform: { '^.+\\.ts$': ['@swc/jest', { ...swcOptions({ rewritePaths: true }), swcrc: false }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  setupFiles: ['reflect-metadata'],
};

module.exports = {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/apps/**/*.spec.ts', '<rootDir>/libs/**/*.spec.ts', '<rootDir>/packages/**/*.spec.ts'] },
    {
      ...base,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.int.ts'],
      globalSetup: '<rootDir>/test/integration/global-setup.ts',
      setupFilesAfterEnv: ['<rootDir>/test/integration/setup.ts'],
    },
    // Presigned URLs against Ceph RGW, which enforces signatures and signed headers (moto does not).
    { ...base, displayName: 'conformance', testMatch: ['<rootDir>/test/conformance/**/*.conformance.ts'] },
    {
      ...base,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e.ts'],
      globalSetup: '<rootDir>/test/e2e/global-setup.ts',
      globalTeardown: '<rootDir>/test/e2e/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/e2e/setup.ts'],
    },
  ],
};
