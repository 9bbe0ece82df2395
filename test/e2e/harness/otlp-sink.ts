import { createServer, type IncomingMessage, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { freePort } from '../../helpers/ports.ts';

/** What an OTLP/HTTP exporter sent: the path (`/v1/traces`, `/v1/metrics`, `/v1/logs`) and the body. */
export interface OtlpExport {
  readonly path: string;
  readonly contentType: string;
  /** The decoded body as text (JSON for the `-otlp-http` exporters; protobuf bytes as latin1 otherwise). */
  readonly text: string;
}

/** A fake OTel collector on loopback that keeps every export, so tests can scan what left a process. */
export interface OtlpSink {
  /** Base URL to use as `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  readonly url: string;
  exports(): readonly OtlpExport[];
  /** Span names seen in `/v1/traces` JSON exports. */
  spanNames(): string[];
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  const body = Buffer.concat(parts);
  return request.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
}

/**
 * Start a sink answering OTLP/HTTP exports with 200 `{}` and recording their bodies.
 *
 * @example
 * const sink = await startOtlpSink();
 * const gw = await startGateway({ otlpEndpoint: sink.url });
 */
export async function startOtlpSink(): Promise<OtlpSink> {
  const received: OtlpExport[] = [];
  const server: Server = createServer((request, response) => {
    readBody(request).then(
      (body) => {
        const contentType = request.headers['content-type'] ?? '';
        received.push({
          path: request.url ?? '',
          contentType,
          text: contentType.includes('json') ? body.toString('utf8') : body.toString('latin1'),
        });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      },
      () => response.writeHead(400).end(),
    );
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    exports: () => received,
    spanNames() {
      const names: string[] = [];
      for (const item of received) {
        if (!item.path.startsWith('/v1/traces') || !item.contentType.includes('json')) continue;
        for (const match of item.text.matchAll(/"name":"([^"]*)","kind"/g)) names.push(match[1]!);
      }
      return names;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
