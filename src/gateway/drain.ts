import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';

/**
 * How long a keep-alive socket must have been idle before a drain closes it, ms. A client sending back
 * to back writes its next request within a millisecond of reading an answer; closing a socket the
 * moment it goes idle (what `server.close()` and `closeIdleConnections()` do) resets requests that are
 * already on the wire but not yet read (issue 13 item 5: 10–18 ECONNRESET in 3 of 5 SIGTERM runs).
 */
export const DRAIN_IDLE_GRACE_MS = 250;

/** What a drain reports when it ends. */
export interface DrainResult {
  /** Requests still running at the deadline (their sockets were closed). */
  readonly abandoned: number;
}

/**
 * The sockets of an HTTP server and which of them are between requests, so a shutdown can stop
 * accepting, answer every request that reached a socket (with `connection: close`), and close only
 * sockets that stayed idle.
 */
export class ConnectionDrain {
  /** Open sockets → when they last went idle (ms, `performance.now()`), or undefined while busy. */
  readonly #idleSince = new Map<Socket, number | undefined>();
  #draining = false;
  #requests = 0;
  readonly #server: Server;

  constructor(server: Server) {
    this.#server = server;
    server.on('connection', (socket: Socket) => {
      this.#idleSince.set(socket, performance.now());
      socket.once('close', () => this.#idleSince.delete(socket));
    });
    // First among the request listeners: the app's may answer synchronously (a 404, `/healthz`), and
    // a header set after that throws ERR_HTTP_HEADERS_SENT out of the process.
    server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
      const { socket } = request;
      this.#requests++;
      this.#idleSince.set(socket, undefined);
      // While draining, every answer closes its connection: the client reconnects (to another replica).
      if (this.#draining && !response.headersSent) response.setHeader('connection', 'close');
      response.once('close', () => {
        this.#requests--;
        if (this.#idleSince.has(socket)) this.#idleSince.set(socket, performance.now());
      });
    });
  }

  /** Requests being answered now. */
  get inFlight(): number {
    return this.#requests;
  }

  /**
   * Stop accepting connections, answer what arrives on open sockets, close sockets idle for
   * `DRAIN_IDLE_GRACE_MS`, and at `deadline` (ms, `Date.now()`) close whatever is left.
   */
  async drain(deadline: number): Promise<DrainResult> {
    this.#draining = true;
    // net.Server's close stops listening and leaves open sockets alone; http.Server's also closes every
    // idle keep-alive socket at once, which is the race this class exists to avoid.
    const closed = new Promise<void>((resolve) =>
      NetServer.prototype.close.call(this.#server, () => resolve()),
    );
    while (this.#idleSince.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      const candidates = this.#idleFor(DRAIN_IDLE_GRACE_MS);
      if (candidates.length === 0) continue;
      // Decide in the timers phase, close in the check phase: the poll phase between them reads what
      // the kernel already holds for these sockets, so a request already sent marks its socket busy.
      await new Promise((resolve) => setImmediate(resolve));
      for (const socket of candidates) {
        if (this.#idleSince.get(socket) !== undefined) socket.destroy();
      }
    }
    const abandoned = this.#requests;
    for (const socket of this.#idleSince.keys()) socket.destroy();
    await closed;
    return { abandoned };
  }

  #idleFor(ms: number): Socket[] {
    const before = performance.now() - ms;
    const sockets: Socket[] = [];
    for (const [socket, since] of this.#idleSince) {
      if (since !== undefined && since <= before) sockets.push(socket);
    }
    return sockets;
  }
}
