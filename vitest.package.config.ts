import { defineConfig } from 'vitest/config';

// The packed-package check (npm run test:package, run by .ci/run): `npm pack`, install the tarball
// into a new project, use it there. Minutes on a loaded machine, so not part of `npm test`.
export default defineConfig({
  test: {
    include: ['test/package/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 300_000,
    maxWorkers: 1,
  },
});
