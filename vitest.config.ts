import { defineConfig } from 'vitest/config';

// Tests import workspace packages from their TypeScript sources (the
// `evalfleet-source` export condition), so no build is needed to test.
export default defineConfig({
  resolve: { conditions: ['evalfleet-source'] },
  ssr: { resolve: { conditions: ['evalfleet-source'], externalConditions: ['evalfleet-source'] } },
  test: {
    include: ['shared/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
