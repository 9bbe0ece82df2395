import { connect, type Socket } from 'node:net';

/** What came back on a raw connection: the bytes read until the server closed it or we gave up. */
export interface RawReply {
  /** Status of the first response line, or 0 when none arrived. */
  readonly status: number;
  readonly text: string;
  /** True when the server closed the connection (as opposed to our own timeout). */
  readonly closedByServer: boolean;
  readonly ms: number;
}

/**
 * Write `chunks` to a fresh loopback connection, waiting `gapMs` between them, then read until the
 * server closes or `timeoutMs` passes. For requests fetch refuses to send: thousands of headers,
 * dribbled bytes (slowloris), lying Content-Length.
 */
export function rawRequest(
  port: number,
  chunks: readonly (string | Uint8Array)[],
  options: { gapMs?: number; timeoutMs?: number } = {},
): Promise<RawReply> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket: Socket = connect({ port, host: '127.0.0.1' });
    let text = '';
    let done = false;
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, text, closedByServer, ms: performance.now() - started });
    };
    const timer = setTimeout(() => finish(false), options.timeoutMs ?? 10_000);
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => {
      text += data;
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', async () => {
      for (const chunk of chunks) {
        if (done || socket.destroyed) return;
        socket.write(chunk);
        if (options.gapMs) await new Promise((r) => setTimeout(r, options.gapMs));
      }
    });
  });
}

/** An HTTP/1.1 POST to /v1/chat/completions as raw text (headers only, or with a body). */
export function rawPost(body: string | undefined, headers: Record<string, string> = {}, extra = ''): string {
  const lines = [
    'POST /v1/chat/completions HTTP/1.1',
    'Host: 127.0.0.1',
    'Content-Type: application/json',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  if (body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}${extra}\r\n\r\n${body ?? ''}`;
}
