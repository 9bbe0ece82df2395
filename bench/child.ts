/**
 * The child side of the harness's IPC protocol (`bench/protocol.ts`), shared by `bench/server.ts` and
 * the peer agent (`bench/systems/peer-agent.ts`): answers `stats` with this process's CPU and memory
 * (optionally starting or stopping its CPU profiler) and calls `onStop` on `stop`.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { FromChild, ProfileAction, ToChild } from './protocol.ts';

export function send(message: FromChild): void {
  process.send?.(message);
}

let profiler: Session | undefined;

/** Profile only the measured window (not start-up or warm-up), through the inspector. */
async function profile(action: ProfileAction): Promise<void> {
  if (action === 'start') {
    profiler ??= new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
    return;
  }
  if (!profiler) return;
  const { profile: result } = await profiler.post('Profiler.stop');
  writeFileSync(action.stopTo, JSON.stringify(result));
  profiler.disconnect();
}

/** Answer the harness's messages; `onStop` runs on `stop` and when the harness goes away. */
export function answerHarness(onStop: () => void): void {
  process.on('message', async (message: ToChild) => {
    if (message.type === 'stop') {
      onStop();
      return;
    }
    const cpu = process.cpuUsage();
    const rss = process.memoryUsage.rss();
    // Live data, not garbage waiting for a collection: a full GC (after the CPU was read, so not billed).
    (globalThis as { gc?: () => void }).gc?.();
    const memory = process.memoryUsage();
    if (message.profile) await profile(message.profile);
    send({
      type: 'stats',
      id: message.id,
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      rssBytes: rss,
      heapUsedBytes: memory.heapUsed,
      heapTotalBytes: memory.heapTotal,
      externalBytes: memory.external,
    });
  });
  // The harness going away (crash, Ctrl-C) must not leave servers behind.
  process.on('disconnect', onStop);
}
