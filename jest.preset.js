// Shared jest settings for every project (referenced by each project's jest.config.ts).
// SWC strips types only; `nx run-many -t build` runs tsc for type checking.
const nxPreset = require('@nx/jest/preset').default;

module.exports = {
  ...nxPreset,
  testEnvironment: 'node',
  transform: {
    '^.+\\.[tj]s$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  // ESM-only dependencies are transformed to CommonJS for jest's module system.
  transformIgnorePatterns: [
    '/node_modules/(?!(p-limit|yocto-queue|p-retry|is-network-error|@kubernetes/client-node|openid-client|oauth4webapi|jose|rfc4648|jsonpath-plus|@jsep-plugin|jsep|gaxios|node-fetch|fetch-blob|data-uri-to-buffer|formdata-polyfill|node-domexception)/)',
  ],
  testMatch: ['**/?(*.)+(spec|test).ts'],
  // No test is timed: speed lives in benchmarks (tools/bench). Jest's 5 s default turned a busy
  // 2-core CI machine into failures; this is only a bound on a hung test.
  testTimeout: 120_000,
};
