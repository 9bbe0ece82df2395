import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Heap in use after pending timers ran (the in-memory span exporter acknowledges exports on a
 * `setTimeout(0)`, and a loop of `app.request()` calls never yields to timers) and two full
 * collections, in bytes.
 */
export async function settledHeap(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 20));
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
