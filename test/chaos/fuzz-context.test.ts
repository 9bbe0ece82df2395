// The in-process fuzzing of aiContext + aiHandler with ALCHEMIST_FUZZ_RUNS cases (30000 by default
// under test:chaos, set by vitest.chaos.config.ts) instead of the default run's 3000.
import '../e2e/fuzz-context.test.ts';
