import { startSimulator } from '../../src/simulator/index.ts';
import type { Running } from './listen.ts';

/** The simulated provider, in its own process so its CPU is never billed to a system under test. */
export async function startSimulatorSystem(latencyMs: number, chunkDelayMs = 0): Promise<Running> {
  const simulator = await startSimulator({ latencyMs, chunkDelayMs, wordsPerChunk: 4 });
  return { url: simulator.url, close: () => simulator.close() };
}
