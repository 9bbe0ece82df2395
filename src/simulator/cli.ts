import { parseArgs } from 'node:util';
import { startSimulator } from './server.ts';

/**
 * Run the simulated provider as its own process until SIGTERM/SIGINT (`alchemist-perf simulate`,
 * `node src/simulator/main.ts`). Prints one JSON line `{"url":...,"port":...}` once it listens.
 */
export async function runSimulatorCli(args: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...args],
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
}
