import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildStats, FromChild, ProfileAction, SystemSpec, ToChild } from './protocol.ts';

const SERVER_ENTRY = fileURLToPath(new URL('./server.ts', import.meta.url));
const START_TIMEOUT_MS = 30_000;
const STATS_TIMEOUT_MS = 10_000;

/** A system under test running in its own process. */
export interface SystemProcess {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  /** RSS right after start, before any load: what the process costs empty (Node + modules). */
  readonly idleRssBytes: number;
  /** CPU, RSS and heap of the server process right now; optionally start or stop its CPU profiler. */
  stats(profile?: ProfileAction): Promise<ChildStats>;
  /** Ask it to exit (writing its CPU profile if profiling), SIGKILL after a grace period. */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** Extra environment (e.g. OTEL_* for the pack). */
  readonly env?: Readonly<Record<string, string>>;
}

/** Every process this harness started, so a crash or Ctrl-C still stops them. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const child of live) child.kill('SIGKILL');
      process.exit(130);
    });
  }
}

/** Kill `child` if the harness exits or is interrupted before stopping it (e.g. a redis-server). */
export function killOnExit(child: ChildProcess): void {
  installExitHook();
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/** Start `bench/server.ts` for a spec with the same Node binary and wait until it listens. */
export function spawnSystem(
  name: string,
  spec: SystemSpec,
  options: SpawnOptions = {},
): Promise<SystemProcess> {
  return spawnChild(name, ['--expose-gc', SERVER_ENTRY, JSON.stringify(spec)], options);
}

/** How a process that is not `bench/server.ts` (a peer gateway with the peer agent) is started. */
export interface ChildOptions extends SpawnOptions {
  /** Keep its stdout and stderr (the last few KB) for the error message instead of showing them. */
  readonly captureOutput?: boolean;
}

const CAPTURED_BYTES = 4096;

/**
 * Start `process.execPath` with `args`, wait for the child's `ready` over IPC (sent by
 * `bench/child.ts`'s users), and talk the stats protocol with it.
 */
export function spawnChild(
  name: string,
  args: readonly string[],
  options: ChildOptions = {},
): Promise<SystemProcess> {
  installExitHook();
  const output = options.captureOutput ? 'pipe' : 'inherit';
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', output, output, 'ipc'],
    env: { ...process.env, ...options.env },
  });
  let captured = '';
  const keep = (chunk: Buffer) => {
    captured = (captured + chunk.toString('utf8')).slice(-CAPTURED_BYTES);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const lastOutput = () => {
    const text = captured.trim();
    return text ? `; its last output: ${text.slice(-600)}` : '';
  };
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => live.delete(child));

  let nextId = 0;
  const pending = new Map<number, (stats: ChildStats) => void>();
  child.on('message', (message: FromChild) => {
    if (message.type !== 'stats') return;
    const { type: _type, id, ...stats } = message;
    pending.get(id)?.(stats);
    pending.delete(id);
  });

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (child.connected) child.send({ type: 'stop' } satisfies ToChild);
    const timer = setTimeout(() => child.kill('SIGKILL'), 8_000);
    await exited;
    clearTimeout(timer);
  };

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name}: not ready after ${START_TIMEOUT_MS} ms${lastOutput()}`));
    }, START_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${name}: cannot start: ${error.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name}: exited before ready (code ${code}, signal ${signal})${lastOutput()}`));
    });
    const onMessage = (message: FromChild) => {
      if (message.type === 'failed') {
        clearTimeout(timer);
        reject(new Error(`${name}: ${message.message}`));
      } else if (message.type === 'ready') {
        clearTimeout(timer);
        child.off('message', onMessage);
        const stats = (profile?: ProfileAction): Promise<ChildStats> =>
          new Promise((done, fail) => {
            const id = nextId++;
            const timeout = setTimeout(() => {
              pending.delete(id);
              fail(new Error(`${name}: no stats answer in ${STATS_TIMEOUT_MS} ms`));
            }, STATS_TIMEOUT_MS);
            pending.set(id, (stats) => {
              clearTimeout(timeout);
              done(stats);
            });
            child.send((profile ? { type: 'stats', id, profile } : { type: 'stats', id }) satisfies ToChild);
          });
        stats(undefined).then(
          (idle) =>
            resolve({
              name,
              url: message.url,
              pid: child.pid ?? 0,
              idleRssBytes: idle.rssBytes,
              stop,
              stats,
            }),
          reject,
        );
      }
    };
    child.on('message', onMessage);
  });
}
