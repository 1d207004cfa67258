/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // type checking is `npm run build`; tsconfig's isolatedModules makes ts-jest transpile only (fast)
  transform: { '^.+\\.tsx?$': ['ts-jest', {}] },
  // removes the temporary cloud assemblies the tests synthesize
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean'],
  testTimeout: 60000,
};
