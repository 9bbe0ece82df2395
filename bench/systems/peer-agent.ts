/**
 * Preloaded (`node --import bench/systems/peer-agent.ts <peer's entry>`) into a peer gateway the
 * bench did not write, so it is measured like our own systems: the same IPC stats protocol
 * (`bench/child.ts`: its own `process.cpuUsage()`, RSS, heap after a GC, CPU profiles), a `ready`
 * message with its URL once it listens, and loopback only whatever host the peer asks for.
 */
import { Server } from 'node:net';
import { answerHarness, send } from '../child.ts';

const LOOPBACK = '127.0.0.1';

/**
 * `server.listen()` arguments with the host forced to loopback: `(port)`, `(port, cb)`,
 * `(port, host, ...)` and `({ port, host })` forms. Anything else (a path, a handle) is left alone.
 */
export function loopbackListenArgs(args: readonly unknown[]): unknown[] {
  const [first, second, ...rest] = args;
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    const hostGiven = typeof second === 'string' || second === undefined || second === null;
    return hostGiven ? [first, LOOPBACK, ...rest] : [first, LOOPBACK, second, ...rest];
  }
  if (first && typeof first === 'object' && 'port' in first && !('path' in first)) {
    return [{ ...first, host: LOOPBACK }, second, ...rest].slice(0, args.length);
  }
  return [...args];
}

/** Install the agent (only when run as a preload with an IPC channel, never on import by a test). */
function install(): void {
  const listen = Server.prototype.listen;
  let announced = false;
  Server.prototype.listen = function (this: Server, ...args: unknown[]) {
    this.once('listening', () => {
      const address = this.address();
      // The peer's HTTP server is the first TCP server to listen.
      if (announced || !address || typeof address === 'string') return;
      announced = true;
      send({ type: 'ready', url: `http://${LOOPBACK}:${address.port}` });
    });
    return listen.apply(this, loopbackListenArgs(args) as Parameters<typeof listen>);
  } as typeof listen;
  answerHarness(() => process.exit(0));
}

if (process.send && process.env.BENCH_PEER_AGENT === '1') install();
