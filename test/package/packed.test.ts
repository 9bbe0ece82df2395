import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { freePort } from '../helpers/ports.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  exports: Record<string, unknown>;
};
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version: string }>;
};
/** The versions this repository tests with, so the install is served from npm's cache when it can be. */
const locked = (name: string) => `${name}@${lock.packages[`node_modules/${name}`]!.version}`;
/** Node 24 (this process) first on PATH: npm, the bin's `#!/usr/bin/env node` and tsc run on it. */
const env = { ...process.env, PATH: `${join(process.execPath, '..')}:${process.env.PATH}` };

/**
 * Issue 17 item 1: `npm pack` shipped no dist/, so an installed package failed with ERR_MODULE_NOT_FOUND.
 * Pack this repository, install the tarball into a new ESM project with only the peer dependencies
 * (and what the README's examples import), and use it as a user does.
 */
describe('the packed package, installed in a new project', () => {
  let dir: string;
  let project: string;
  let files: string[];
  let sim: Simulator;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'alchemist-pack-'));
    const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, env });
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    files = info!.files.map((file) => file.path);
    project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      '{ "name": "project", "private": true, "type": "module" }\n',
    );
    const install = [
      join(dir, info!.filename),
      ...[
        'hono',
        '@hono/node-server',
        '@opentelemetry/api',
        'openai',
        'ai',
        '@anthropic-ai/sdk',
        '@types/node',
      ].map(locked),
    ];
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...install], {
      cwd: project,
      env,
    });
    sim = await startSimulator({ latencyMs: 1, jitterMs: 0, chunkDelayMs: 0 });
  }, 300_000);
  afterAll(async () => {
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships the build and the bin, not the source or the tests', () => {
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('dist/cli/main.js');
    expect(files).toContain('bin/alchemist-perf.js');
    expect(files).toContain('bin/node-version.js');
    expect(files.filter((file) => /^(src|test|examples)\//.test(file))).toEqual([]);
  });

  it('imports every subpath export', async () => {
    const subpaths = Object.keys(pkg.exports).filter((key) => key !== './package.json');
    const script = `for (const s of ${JSON.stringify(subpaths)}) { const m = await import(s === '.' ? '${pkg.name}' : '${pkg.name}' + s.slice(1)); console.log(s, Object.keys(m).length > 0); }`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: project,
      env,
    });
    expect(stdout).toBe(subpaths.map((subpath) => `${subpath} true\n`).join(''));
  });

  it('can be required from CommonJS (require of ESM)', async () => {
    writeFileSync(join(project, 'check.cjs'), "console.log(typeof require('alchemist-perf').withCache);\n");
    expect((await run(process.execPath, ['check.cjs'], { cwd: project, env })).stdout).toBe('function\n');
  });

  it('runs the bin from dist/', async () => {
    const bin = join(project, 'node_modules/.bin/alchemist-perf');
    expect((await run(bin, ['--version'], { cwd: project, env })).stdout).toBe(`${pkg.version}\n`);
    const port = await freePort();
    const unreachable = await run(bin, ['stats', '--url', `http://127.0.0.1:${port}`], {
      cwd: project,
      env,
    }).then(
      () => '',
      (error: { stderr: string }) => error.stderr,
    );
    expect(unreachable).toMatch(
      /^alchemist-perf: cannot reach the gateway at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/,
    );
  });

  it('type-checks a file against the shipped .d.ts', async () => {
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'es2024',
          module: 'nodenext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
        },
        files: ['check.ts'],
      }),
    );
    writeFileSync(
      join(project, 'check.ts'),
      `import { Hono } from 'hono';
import { type CallContext, createResilience, jsonResult, withCache } from 'alchemist-perf';
import { aiCache, aiContext, aiErrorHandler, aiHandler } from 'alchemist-perf/hono';
import { createGateway, loadConfig } from 'alchemist-perf/gateway';
import { wrapOpenAI } from 'alchemist-perf/openai';
import { aiSdkMiddleware } from 'alchemist-perf/ai-sdk';
import { setupTelemetry } from 'alchemist-perf/telemetry';

const app = new Hono();
app.onError(aiErrorHandler());
app.use('/v1/*', aiContext(), aiCache({ ttl: 60 }));
app.post('/v1/chat/completions', aiHandler(async (ctx: CallContext) => jsonResult({ model: ctx.model }), [createResilience({ maxRetries: 1 })]));
const ask = withCache(async (request: { model: string; messages: unknown[] }) => ({ model: request.model }), { ttl: 60 });
const answer: Promise<{ model: string }> = ask({ model: 'gpt-4o-mini', messages: [] });
// @ts-expect-error ttl is a number of seconds: the shipped types are real, not any.
withCache(async () => 1, { ttl: 'one minute' });
export { app, answer, createGateway, loadConfig, wrapOpenAI, aiSdkMiddleware, setupTelemetry };
`,
    );
    const tsc = join(ROOT, 'node_modules/.bin/tsc');
    const output = await run(tsc, ['-p', 'tsconfig.json'], { cwd: project, env }).then(
      () => '',
      (error: { stdout: string }) => error.stdout,
    );
    // Only our file and our declarations are judged (the ai package's own types want @types/json-schema).
    const ours = output
      .split('\n')
      .filter((line) => /^(check\.ts|node_modules\/alchemist-perf\/)/.test(line));
    expect(ours).toEqual([]);
  });

  it("runs the README's Hono example unchanged: a miss, then a hit", async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const usage = readme.split('<!-- section:usage ')[1]!;
    const example = /```ts\n([\s\S]*?)```/.exec(usage)![1]!;
    expect(example).toContain('new Hono()');
    writeFileSync(join(project, 'app.ts'), example);
    const port = await freePort();
    const child = spawn(process.execPath, ['app.ts'], {
      cwd: project,
      env: { ...env, PORT: String(port), OPENAI_BASE_URL: `${sim.url}/v1`, OPENAI_API_KEY: 'sk-packed' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      output += text;
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      output += text;
    });
    try {
      const deadline = Date.now() + 20_000;
      while (!output.includes('listening on')) {
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`app.ts did not start:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const ask = () =>
        fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer sk-user' },
          body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'packed' }] }),
        });
      const first = await ask();
      expect(first.status).toBe(200);
      expect(first.headers.get('cache-status')).toBe('alchemist-perf; fwd=miss; stored');
      const second = await ask();
      expect(second.headers.get('cache-status')).toMatch(/^alchemist-perf; hit; ttl=\d+$/);
      expect(await second.json()).toEqual(await first.json());
    } finally {
      child.kill('SIGTERM');
    }
  });
});
