/**
 * The simulated provider (in a clone of the repository: it is not a package export).
 */
import { startSimulator } from '../src/simulator/index.ts';

const sim = await startSimulator({ latencyMs: 50, jitterMs: 20, chunkDelayMs: 5, apiKey: 'sk-sim' });
sim.setMode({ fail: '429', rate: 0.5, retryAfter: 2 }); // every other call: 429 + Retry-After: 2
sim.setMode({ fail: 'hang', model: 'gpt-4o' }); // only gpt-4o calls hang
console.log(sim.url, sim.stats()); // { requests, byApi, byModel, streams, failures, inFlight, ... }
await sim.close();
