// Shared jest setup: swc transpiles TypeScript (type-checking is the typecheck target's job),
// relative ".js" imports map to their ".ts" sources, and workspace packages resolve to src.
const path = require('node:path');

const root = __dirname;
const workspaceSources = {
  '^@partq/proto$': path.join(root, 'proto/src/index.ts'),
  '^@partq/(wal|schema|partition|client-core|producer|consumer|runtime|cluster)$': path.join(root, 'libs/$1/src/index.ts'),
};

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.(t|j)s$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
  },
  moduleNameMapper: {
    ...workspaceSources,
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};
