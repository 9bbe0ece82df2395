import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayTarget } from '../../src/cli/target.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway.ts';
import { freePort } from '../helpers/ports.ts';

const BIN = join(import.meta.dirname, '../../bin/alchemist-perf.js');

function cli(args: string[], env: Record<string, string | undefined>) {
  const merged: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['ADMIN_TOKEN', 'ALCHEMIST_URL', 'ALCHEMIST_CONFIG', 'PORT', 'HOST'])
    delete merged[name];
  for (const [name, value] of Object.entries(env)) if (value !== undefined) merged[name] = value;
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: merged, timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Issue 17 item 3: the CLI finds the gateway the way `serve` chose its address, and says which URL it tried. */
describe('where the CLI looks for the gateway', () => {
  it('follows --url, ALCHEMIST_URL, PORT/HOST, the config file, then the default', () => {
    const dir = mkdtempSync(join(tmpdir(), 'alchemist-target-'));
    const file = join(dir, 'alchemist.toml');
    writeFileSync(file, '[server]\nhost = "0.0.0.0"\nport = 9100\n');
    expect(gatewayTarget('http://h:1', file, { ALCHEMIST_URL: 'http://e:2', PORT: '3' })).toEqual({
      url: 'http://h:1',
    });
    expect(gatewayTarget(undefined, file, { ALCHEMIST_URL: 'http://e:2', PORT: '3' })).toEqual({
      url: 'http://e:2',
      from: 'ALCHEMIST_URL',
    });
    expect(gatewayTarget(undefined, file, { PORT: '21787' })).toEqual({
      url: 'http://127.0.0.1:21787',
      from: 'PORT',
    });
    expect(gatewayTarget(undefined, undefined, { ALCHEMIST_CONFIG: file })).toEqual({
      url: 'http://127.0.0.1:9100',
      from: `[server] in ${file}`,
    });
    expect(gatewayTarget(undefined, undefined, { HOST: '::1', PORT: '9200' })).toEqual({
      url: 'http://[::1]:9200',
      from: 'HOST and PORT',
    });
    expect(gatewayTarget(undefined, undefined, {})).toEqual({
      url: 'http://127.0.0.1:8787',
      from: 'the default; set ALCHEMIST_URL or pass --url for another gateway',
    });
  });

  describe('against a gateway started with PORT', () => {
    let gw: GatewayProcess;
    let port: number;
    beforeAll(async () => {
      // startGateway runs `serve` with PORT set to a free port, as `PORT=21787 npm start` does.
      gw = await startGateway({
        name: 'cli-port',
        config: '[simulator]\nlatency_ms = 1\njitter_ms = 0\nchunk_delay_ms = 0\n',
        env: { OPENAI_API_KEY: undefined, ANTHROPIC_API_KEY: undefined, OPENAI_BASE_URL: undefined },
      });
      port = gw.port;
    });
    afterAll(() => gw?.stop());

    it('`PORT=… alchemist-perf stats` reaches it (with the local admin token)', async () => {
      expect(gw.url).toBe(`http://127.0.0.1:${port}`);
      const run = await cli(['stats'], { PORT: String(port) });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`at http://127.0.0.1:${port}: ready`);
    });

    it('names the URL it tried and where it came from when nothing answers', async () => {
      const other = await freePort();
      const run = await cli(['stats'], { PORT: String(other) });
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        `alchemist-perf: cannot reach the gateway at http://127.0.0.1:${other} (from PORT) (ECONNREFUSED): is it running? Start it with \`alchemist-perf serve\`, or pass --url\n`,
      );
    });
  });
});
