#!/usr/bin/env node
// Run the simulated provider as its own process (benchmarks, demos, chaos tests):
//   node src/simulator/main.ts --port 0 --latency-ms 50 --jitter-ms 20 --chunk-delay-ms 5
// Prints one JSON line `{"url":...,"port":...}` once it listens; stops on SIGTERM/SIGINT.
import { parseArgs } from 'node:util';
import { startSimulator } from './server.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'latency-ms': { type: 'string' },
    'jitter-ms': { type: 'string' },
    'chunk-delay-ms': { type: 'string' },
    'words-per-chunk': { type: 'string' },
    'api-key': { type: 'string' },
  },
});

const number = (value: string | undefined) => (value === undefined ? undefined : Number(value));
const simulator = await startSimulator({
  port: Number(values.port),
  host: values.host,
  latencyMs: number(values['latency-ms']),
  jitterMs: number(values['jitter-ms']),
  chunkDelayMs: number(values['chunk-delay-ms']),
  wordsPerChunk: number(values['words-per-chunk']),
  apiKey: values['api-key'],
});
process.stdout.write(`${JSON.stringify({ url: simulator.url, port: simulator.port })}\n`);
const stop = () => {
  simulator.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
