/** Jest runs the TypeScript sources as native ES modules through ts-jest. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }]
  },
  testMatch: ['**/__tests__/**/*.test.ts'],
  // Removes the temp directories a test file made through support/temp.ts.
  setupFilesAfterEnv: ['<rootDir>/__tests__/support/jest-setup.ts'],
  testTimeout: 120000,
  // End-to-end tests spawn processes and servers; two workers suit a 2-core runner.
  maxWorkers: 2,
  verbose: false
}
