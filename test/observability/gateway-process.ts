import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The gateway as docker-compose runs it: `node src/cli/main.ts serve --config <file>`, its own process. */
export interface GatewayProcess {
  readonly url: string;
  /** What the process printed (stdout and stderr), for failure messages. */
  output(): string;
  /** SIGTERM (graceful drain), SIGKILL after 10 s. */
  stop(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Start the CLI with `configToml` on `port`; resolves once `/healthz` answers 200 (within 30 s). */
export async function startGatewayProcess(
  configToml: string,
  port: number,
  env: Record<string, string>,
): Promise<GatewayProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'alchemist-gateway-'));
  const configPath = join(dir, 'alchemist.toml');
  writeFileSync(configPath, configToml);
  let output = '';
  const child: ChildProcess = spawn(process.execPath, ['src/cli/main.ts', 'serve', '--config', configPath], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: dir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer) => {
    if (output.length < 200_000) output += chunk.toString('utf8');
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('error', (error) => keep(Buffer.from(String(error))));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) })).ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`gateway did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, output: () => output, stop };
}
