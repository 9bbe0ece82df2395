import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { freePort } from './ports.ts';

/** A real redis-server on a loopback port, owned by the test that started it. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** SIGKILL the server (a crash, not a shutdown). */
  kill(): Promise<void>;
  /** Start it again on the same port (data is gone: persistence is off unless `appendonly`). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** True when a Redis server answers PING on this loopback port. */
export function pingRedis(port: number, authRequired = false): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.setTimeout(200);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      const reply = data.toString();
      resolve(reply.startsWith('+PONG') || (authRequired && reply.startsWith('-NOAUTH')));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Start `redis-server` (Debian's package; `.ci/run` installs it) on a free loopback port.
 * With `persist: true` it keeps an append-only file so entries survive `kill()` + `restart()`;
 * `args` are extra server options (e.g. `['--requirepass', 'x']`).
 */
export async function startRedis(
  options: { persist?: boolean; args?: readonly string[] } = {},
): Promise<RedisServer> {
  const port = await freePort();
  const dir = `/tmp/alchemist-redis-${port}`;
  let child: ChildProcess | undefined;
  const launch = async () => {
    mkdirSync(dir, { recursive: true });
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir];
    args.push(
      ...(options.persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    );
    args.push(...(options.args ?? []));
    child = spawn('redis-server', args, { stdio: 'ignore' });
    child.on('error', () => {});
    // PING answers NOAUTH on a server with a password: it is up all the same.
    await waitFor(() => pingRedis(port, options.args?.includes('--requirepass')), `redis-server on ${port}`);
  };
  const kill = async () => {
    const current = child;
    // A SIGKILLed child has no exit code, only a signal code: it is gone all the same.
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    const exited = new Promise((resolve) => current.once('exit', resolve));
    current.kill('SIGKILL');
    await exited;
  };
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    restart: launch,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
