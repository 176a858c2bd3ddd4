import { defineConfig } from 'vitest/config';

// Two projects: `unit` runs in seconds with no Docker; `e2e` drives real Docker, Packer,
// HAProxy and MariaDB and runs its files one at a time because they share one engine.
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [
            'test/unit/**/*.test.ts',
            'test/cdk/**/*.test.ts',
            'test/statemachine/**/*.test.ts',
          ],
          setupFiles: ['test/setup/aws-mock-matchers.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 900_000,
          hookTimeout: 1_800_000,
        },
      },
    ],
  },
});
