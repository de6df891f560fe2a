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
    // Two files at a time whatever the core count (vitest's default is cores - 1: one on a 2-core CI
    // machine). Much of the suite waits on Docker builds, outages and paced providers, not the CPU;
    // the tests that share the machine's broker and Docker engine keep to their own namespaces.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
