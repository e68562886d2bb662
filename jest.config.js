/**
 * jest in native ESM mode: run through `node --experimental-vm-modules`
 * (the npm scripts do), TypeScript through ts-jest with `useESM`.
 * @type {import('jest').Config}
 */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  // Sources import each other as './x.js' (NodeNext); jest resolves the .ts file.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
  // compat/ holds apps with their own node_modules and runners (npm run test:compat).
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testTimeout: 20_000,
};
