/**
 * Entry point of one system-under-test process. The harness spawns it with `process.execPath` and an
 * IPC channel, so the load generator never shares an event loop (or a CPU accounting) with the
 * server: `process.cpuUsage()` here is the server's cost alone.
 *
 * Usage (by the harness): node bench/server.ts '<SystemSpec JSON>'
 */
import { answerHarness, send } from './child.ts';
import type { SystemSpec } from './protocol.ts';
import type { Running } from './systems/listen.ts';

/** Load only the modules of this kind, so a baseline's RSS carries nothing of the pack. */
async function start(spec: SystemSpec): Promise<Running> {
  switch (spec.kind) {
    case 'simulator':
      return (await import('./systems/simulator.ts')).startSimulatorSystem(spec.latencyMs, spec.chunkDelayMs);
    case 'sink':
      return (await import('./systems/sink.ts')).startSink();
    case 'fixed':
      return (await import('./systems/fixed.ts')).startFixed(spec.body);
    case 'proxy':
      return (await import('./systems/proxy.ts')).startProxy(spec.upstream, spec.client);
    case 'cache-middleware':
      return (await import('./systems/cache-middleware.ts')).startCacheMiddleware(
        spec.upstream,
        spec.otlpEndpoint,
      );
    case 'pack':
      return (await import('./systems/pack.ts')).startPack(spec);
  }
}

const spec = JSON.parse(process.argv[2] ?? '{}') as SystemSpec;
let running: Running | undefined;

async function stop(): Promise<void> {
  try {
    await Promise.race([running?.close(), new Promise((resolve) => setTimeout(resolve, 3000))]);
  } finally {
    // process.exit() (not a signal) so `--cpu-prof` writes its profile.
    process.exit(0);
  }
}

answerHarness(() => void stop());

try {
  running = await start(spec);
  send({ type: 'ready', url: running.url });
} catch (error) {
  send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}
