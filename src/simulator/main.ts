#!/usr/bin/env node
// Run the simulated provider as its own process (benchmarks, demos, chaos tests):
//   node src/simulator/main.ts --port 0 --latency-ms 50 --jitter-ms 20 --chunk-delay-ms 5
// Prints one JSON line `{"url":...,"port":...}` once it listens; stops on SIGTERM/SIGINT.
import { runSimulatorCli } from './cli.ts';

await runSimulatorCli(process.argv.slice(2));
