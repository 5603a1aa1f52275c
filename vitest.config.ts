import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration suites share one PostgreSQL and one Redis; each creates its own database and queue names.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
