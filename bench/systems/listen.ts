import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';

/** A running HTTP system: where it listens and how to stop it. */
export interface Running {
  readonly url: string;
  close(): Promise<void>;
}

/** Serve a fetch handler on a free loopback port (port 0: the OS picks, so runs never collide). */
export function listen(fetch: (request: Request) => Response | Promise<Response>): Promise<Running> {
  return new Promise((resolve) => {
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            if ('closeAllConnections' in server) server.closeAllConnections();
          }),
      });
    });
  });
}
