import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          environment: 'node',
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          // Unit tests first: they are quick and say most about a broken change.
          sequence: { groupOrder: 1 },
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
