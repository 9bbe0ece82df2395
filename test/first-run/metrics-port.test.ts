import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '../../bin/alchemist-perf.js');

/** Issue 17 item 6: a second `npm start` collides on the metrics port and says how to move it. */
describe('a second gateway on the same metrics port', () => {
  let busy: Server;
  let port: number;
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    port = (busy.address() as { port: number }).port;
  });
  afterAll(() => new Promise((resolve) => busy.close(resolve)));

  it('exits 1 with one line naming the port, how to move it and how to turn it off', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', OTEL_EXPORTER_PROMETHEUS_PORT: String(port) };
    for (const name of ['ALCHEMIST_CONFIG', 'OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'OPENAI_BASE_URL'])
      delete env[name];
    const run = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, [BIN, 'serve'], { env, timeout: 30_000 }, (error, _stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stderr }),
      );
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `alchemist-perf: cannot start the gateway: the metrics port 127.0.0.1:${port} is in use (another gateway?): ` +
        'move it with OTEL_EXPORTER_PROMETHEUS_PORT=<port> or [telemetry] prometheus_port, ' +
        'or turn it off with [telemetry] prometheus_port = false\n',
    );
  });
});
