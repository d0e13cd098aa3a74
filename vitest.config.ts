import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/integration/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // One API server is shared; a handful of files in parallel keeps 2 cores busy
          // without starving kube-apiserver.
          maxWorkers: 2,
          fileParallelism: true,
        },
      },
    ],
  },
});
