// The in-process gateway fuzzing with ALCHEMIST_FUZZ_RUNS cases (30000 under test:chaos, 2000 by default).
import '../e2e/gateway-fuzz.test.ts';
