import { createConnection, createServer, type Socket } from 'node:net';
import { freePort } from '../helpers/ports.ts';

/** A TCP proxy to Redis that can freeze: connections stay open but nothing is forwarded (a hung server). */
export interface FreezableProxy {
  readonly url: string;
  freeze(): void;
  thaw(): void;
  /** True while frozen. */
  readonly frozen: boolean;
  /** Chunks (from either side) held back since the freeze: 0 means nothing was sent while frozen. */
  readonly held: number;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number): Promise<FreezableProxy> {
  const port = await freePort();
  let frozen = false;
  const sockets = new Set<Socket>();
  const held: Array<() => void> = [];
  const pipe = (from: Socket, to: Socket) => {
    from.on('data', (data) => {
      if (frozen) held.push(() => to.write(data));
      else to.write(data);
    });
    from.on('close', () => to.destroy());
    from.on('error', () => to.destroy());
  };
  const server = createServer((client) => {
    const upstream = createConnection({ port: targetPort, host: '127.0.0.1' });
    sockets.add(client);
    sockets.add(upstream);
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${port}`,
    get frozen() {
      return frozen;
    },
    get held() {
      return held.length;
    },
    freeze: () => {
      frozen = true;
    },
    thaw: () => {
      frozen = false;
      for (const write of held.splice(0)) write();
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
