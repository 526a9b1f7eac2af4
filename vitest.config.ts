import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'sim/**/*.test.ts',
      'scenarios/**/*.test.ts',
      'properties/**/*.test.ts',
      'cli/**/*.test.ts',
      'bench/**/*.test.ts',
    ],
    setupFiles: ['./vitest.setup.ts'],
    testTimeout: 30_000,
    pool: 'threads',
  },
});
