import { defineConfig } from 'vitest/config';

// The long reliability runs (npm run test:chaos): Redis down for 10 s under load, provider storms at
// full length, fuzzing with many more cases. One file at a time: these tests measure latency.
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
    env: { ALCHEMIST_FUZZ_RUNS: process.env.ALCHEMIST_FUZZ_RUNS ?? '30000' },
  },
});
