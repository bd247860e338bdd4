import { defineConfig } from 'vitest/config';

/**
 * Two projects. `fast`: library-level tests that import src/ and start no
 * process (no CLI, browser, PostgreSQL or Bun), for `npm run test:fast` in
 * under a minute. `process`: every other test file, after one build of dist/
 * (./test/global-build.ts); the library-level model test (1,000 random
 * sequences, two minutes here) and the schema-4 migration test are there
 * too, for their time. A new test file lands in `process` unless it is
 * listed here, so nothing escapes `npm test`.
 */
const FAST = [
  'test/architecture.test.ts',
  'test/docs.test.ts',
  'test/ingest-groups.test.ts',
  'test/ingest.test.ts',
  'test/legacy-follow.test.ts',
  'test/parity.test.ts',
  'test/serve-contract.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Several suites spawn CLI processes and write large files; two cores here.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'fast', include: FAST } },
      { extends: true, test: { name: 'process', include: ['test/**/*.test.ts'], exclude: FAST, globalSetup: ['test/global-build.ts'] } },
    ],
  },
});
