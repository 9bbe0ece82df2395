import { spawn } from 'node:child_process';
import { freePort } from '../../test/helpers/ports.ts';
import { pingRedis } from '../../test/helpers/redis.ts';
import { killOnExit } from '../processes.ts';

/** A private redis-server for the Redis scenario. */
export interface BenchRedis {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Start Debian's `redis-server` on a free loopback port, without persistence, killed with the harness
 * even on Ctrl-C.
 */
export async function startBenchRedis(): Promise<BenchRedis> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  killOnExit(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error) => reject(new Error(`cannot start redis-server: ${error.message}`)));
  });
  failed.catch(() => {});
  const deadline = Date.now() + 10_000;
  const ready = (async () => {
    while (!(await pingRedis(port))) {
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer in 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  try {
    await Promise.race([ready, failed]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
