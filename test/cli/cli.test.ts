import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, startGateway } from '../helpers/gateway.ts';
import { freePort } from '../helpers/ports.ts';

const BIN = join(import.meta.dirname, '../../bin/alchemist-perf.js');
const ADMIN_TOKEN = 'admin-cli-5e6f7a8b9c';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI as a user would (`bin/alchemist-perf.js`), with a clean admin environment. */
function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const merged: Record<string, string | undefined> = {
    ...process.env,
    ADMIN_TOKEN: undefined,
    ALCHEMIST_URL: undefined,
    ...env,
  };
  for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: merged as NodeJS.ProcessEnv, timeout: 30_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const chat = (url: string, prompt: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-cli-user-1' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] }),
  }).then((response) => response.text());

let gw: GatewayProcess;
beforeAll(async () => {
  gw = await startGateway({
    name: 'cli',
    adminToken: ADMIN_TOKEN,
    config: '[simulator]\nlatency_ms = 5\njitter_ms = 0\nchunk_delay_ms = 0\n',
    env: { OPENAI_API_KEY: undefined, ANTHROPIC_API_KEY: undefined, OPENAI_BASE_URL: undefined },
  });
  await chat(gw.url, 'cli hello');
  await chat(gw.url, 'cli hello');
});
afterAll(() => gw?.stop());

describe('alchemist-perf stats', () => {
  it('prints a readable table with hit rate, latencies, limits and breakers', async () => {
    const run = await cli(['stats', '--url', gw.url], { ADMIN_TOKEN });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`at ${gw.url}: ready`);
    expect(run.stdout).toContain('[SIMULATED PROVIDER]');
    expect(run.stdout).toMatch(/hit rate\s+50\.0%/);
    expect(run.stdout).toMatch(/all requests\s+2\s+[\d.]+ ms\s+[\d.]+ ms\s+[\d.]+ ms/);
    expect(run.stdout).toContain('Limits (mode local)');
    expect(run.stdout).toMatch(/openai\s+CLOSED/);
  });

  it('prints JSON with --json, and takes the token from --token', async () => {
    const run = await cli(['stats', '--json', '--url', gw.url, '--token', ADMIN_TOKEN]);
    expect(run.code).toBe(0);
    const stats = JSON.parse(run.stdout) as { cache: { hits: number }; requests: { total: number } };
    expect(stats.cache.hits).toBeGreaterThanOrEqual(1);
    expect(stats.requests.total).toBeGreaterThanOrEqual(2);
  });

  it('refreshes with --watch until interrupted', async () => {
    const child = spawn(process.execPath, [BIN, 'stats', '--watch', '--interval', '0.2', '--url', gw.url], {
      env: { ...process.env, ADMIN_TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      out += text;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await expect
        .poll(() => out.split('hit rate').length - 1, { timeout: 15_000 })
        .toBeGreaterThanOrEqual(2);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });

  it('says clearly when the token is wrong or missing (exit 1)', async () => {
    const wrong = await cli(['stats', '--url', gw.url, '--token', 'not-the-token']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('rejected the admin token (401)');
    expect(wrong.stderr).not.toContain('not-the-token');
    const missing = await cli(['stats', '--url', gw.url]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('needs an admin token (401)');
  });

  it('says clearly when the gateway is unreachable (exit 1)', async () => {
    const port = await freePort();
    const run = await cli(['stats', '--url', `http://127.0.0.1:${port}`], { ADMIN_TOKEN });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `cannot reach the gateway at http://127.0.0.1:${port} (ECONNREFUSED): is it running?`,
    );
  });
});

describe('alchemist-perf clear-cache and export', () => {
  it('clears the cache so the next identical request is a miss', async () => {
    const run = await cli(['clear-cache', '--url', gw.url], { ADMIN_TOKEN });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('cleared the whole cache: 1 entry removed (memory 1)\n');
    const tenant = await cli(['clear-cache', '--tenant', 'team-x', '--url', gw.url], { ADMIN_TOKEN });
    expect(tenant.stdout).toBe('cleared the cache of tenant team-x: 0 entries removed (memory 0)\n');
    const response = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-cli-user-1' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'cli hello' }] }),
    });
    expect(response.headers.get('cache-status')).toContain('fwd=miss');
    await response.text();
  });

  it('exports the JSON summary to a file', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'alchemist-export-')), 'export.json');
    const run = await cli(['export', '--out', out, '--url', gw.url], { ADMIN_TOKEN });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`exported to ${out}\n`);
    const exported = JSON.parse(readFileSync(out, 'utf8')) as {
      stats: unknown;
      config: unknown;
      exported_at: string;
    };
    expect(exported.stats).toBeTruthy();
    expect(exported.config).toBeTruthy();
    expect(readFileSync(out, 'utf8')).not.toContain(ADMIN_TOKEN);
  });
});

describe('alchemist-perf serve and usage errors', () => {
  it('refuses a bad config at start with the key, the value and what was expected (exit 2)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'alchemist-bad-')), 'bad.toml');
    writeFileSync(file, '[tiers.free]\nrequests_per_minute = -5\n[cache]\nenabeld = true\n');
    const run = await cli(['serve', '--config', file], { PORT: String(await freePort()) });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'config error: tiers.free.requests_per_minute = -5: expected a positive integer',
    );
    expect(run.stderr).toContain('config error: unknown key cache.enabeld');
    expect(run.stderr).toContain('did you mean cache.enabled?');
  });

  it('prints help, and exits 2 on an unknown command or option', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: alchemist-perf <command>');
    expect((await cli(['frobnicate'])).code).toBe(2);
    const badOption = await cli(['stats', '--nope']);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toContain("Unknown option '--nope'");
  });
});

describe('alchemist-perf stats against a loopback gateway without ADMIN_TOKEN', () => {
  it('reads the local admin token the gateway wrote, so `npm start` + `stats` just works', async () => {
    const local = await startGateway({
      name: 'cli-local',
      config: '[simulator]\nlatency_ms = 5\njitter_ms = 0\n',
      env: { OPENAI_API_KEY: undefined, ANTHROPIC_API_KEY: undefined, OPENAI_BASE_URL: undefined },
    });
    try {
      await chat(local.url, 'local one');
      await chat(local.url, 'local one');
      const run = await cli(['stats', '--url', local.url]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/hit rate\s+50\.0%/);
    } finally {
      await local.stop();
    }
  });
});
