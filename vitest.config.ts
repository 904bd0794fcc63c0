import { defineConfig } from 'vitest/config';

// Forks pool: the Temporal native bridge is not safe in worker threads.
const shared = { pool: 'forks' as const, testTimeout: 60_000, hookTimeout: 120_000 };

export default defineConfig({
  test: {
    // The second names any file whose worker process died under it (Vitest alone does not).
    reporters: ['default', './tests/support/lost-files-reporter.ts'],
    projects: [
      {
        test: {
          ...shared,
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          testTimeout: 10_000,
          globalSetup: ['tests/support/global-setup-tmpdir.ts'],
        },
      },
      {
        // Committed histories replayed against the workflow code: no server.
        test: {
          ...shared,
          name: 'replay',
          include: ['tests/replay/**/*.test.ts'],
          setupFiles: ['tests/support/quiet-runtime.ts'],
        },
      },
      {
        test: {
          ...shared,
          name: 'workflows',
          include: ['tests/workflows/**/*.test.ts'],
          globalSetup: ['tests/support/global-setup-test-server.ts'],
          setupFiles: ['tests/support/quiet-runtime.ts'],
          // Time skipping is global to the test server: one file at a time.
          fileParallelism: false,
        },
      },
      {
        test: {
          ...shared,
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          globalSetup: ['tests/support/global-setup-stack.ts'],
          setupFiles: ['tests/support/quiet-runtime.ts'],
          // Files share the servers, and one of them stops Kafka on purpose.
          fileParallelism: false,
        },
      },
    ],
  },
});
