import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Running } from './listen.ts';

/**
 * An OTLP/HTTP receiver that accepts and drops everything, so "telemetry on" pays the real cost of
 * building, batching, serialising and sending spans and metrics without a collector on the machine.
 */
export function startSink(): Promise<Running> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
