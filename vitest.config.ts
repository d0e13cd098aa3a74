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
      {
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          environment: 'node',
          // Last, after the integration tests: these restart a control plane and SIGKILL operators.
          sequence: { groupOrder: 2 },
          // Their own control plane (.cluster-faults), started by the first file that needs it and
          // stopped here at the end; files run one at a time because they restart it.
          globalSetup: ['test/faults/support/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 180_000,
          maxWorkers: 1,
          fileParallelism: false,
        },
      },
    ],
  },
});
