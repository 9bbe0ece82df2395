import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.ts';

/**
 * Every ```ts block of the README is a complete file: exactly one of `examples/*.ts` (without its
 * leading doc comment), its `../src/...` imports written as a user writes them (the package's entry
 * points from package.json `exports`, or `./src/...` in a clone for what the package does not
 * export). `npm run typecheck` compiles the examples; `examples.test.ts` and the tests below run them.
 *
 * The blocks of the cache, rate-limit and breaker sections are left to their own tests
 * (test/cache/readme.test.ts, test/ratelimit/readme.test.ts, test/budget/readme.test.ts), which their
 * owners keep.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
  name: string;
  exports: Record<string, string | { default: string }>;
};
const SECTIONS_WITH_THEIR_OWN_TESTS = ['cache', 'ratelimit', 'breaker', 'budget'];

const specifiers = new Map<string, string>();
for (const [key, target] of Object.entries(pkg.exports)) {
  const file = typeof target === 'string' ? target : target.default;
  const match = /^\.\/dist\/(.+)\.js$/.exec(file);
  if (match) specifiers.set(`src/${match[1]}.ts`, key === '.' ? pkg.name : `${pkg.name}${key.slice(1)}`);
}

/** An example file as the README shows it. */
function asShown(source: string): string {
  return source
    .replace(/^\/\*\*[\s\S]*?\*\/\n/, '')
    .replace(
      /'\.\.\/(src\/[^']+\.ts)'/g,
      (_whole, path: string) => `'${specifiers.get(path) ?? `./${path}`}'`,
    )
    .trim();
}

const examples = new Map(
  readdirSync(`${root}examples`)
    .filter((file) => file.endsWith('.ts'))
    .map((file) => [asShown(readFileSync(`${root}examples/${file}`, 'utf8')), file] as const),
);

/** The README's ts blocks with the section each is in. */
function blocks(): { section: string; code: string; line: number }[] {
  const found: { section: string; code: string; line: number }[] = [];
  let section = '';
  let code: string[] | undefined;
  let start = 0;
  readme.split('\n').forEach((text, index) => {
    const open = /^<!-- section:(\w+) /.exec(text);
    if (open) section = open[1]!;
    if (/^<!-- \/section:/.test(text)) section = '';
    if (code === undefined && text === '```ts') {
      code = [];
      start = index + 1;
    } else if (code !== undefined && text === '```') {
      found.push({ section, code: code.join('\n').trim(), line: start });
      code = undefined;
    } else code?.push(text);
  });
  return found;
}

describe('README ts blocks', () => {
  const checked = blocks().filter((block) => !SECTIONS_WITH_THEIR_OWN_TESTS.includes(block.section));

  it('are found: the usage, gateway, adapter and telemetry examples', () => {
    expect(checked.map((block) => examples.get(block.code) ?? `README.md:${block.line}`)).toEqual([
      'hono-app.ts',
      'wrappers.ts',
      'compose.ts',
      'gateway-clients.ts',
      'embedding.ts',
      'simulator.ts',
      'openai-adapter.ts',
      'ai-sdk.ts',
      'telemetry.ts',
    ]);
  });

  it('a block that is a fragment of an example is not a complete file (control)', () => {
    const hono = [...examples].find(([, file]) => file === 'hono-app.ts')![0];
    expect(examples.has(hono.split('\n').slice(0, -3).join('\n').trim())).toBe(false);
  });
});

describe('the examples the README shows, run as files', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill('SIGKILL');
    child = undefined;
  });

  /** Run an example; resolve once its output matches, with a way to stop it and wait for its exit. */
  async function run(file: string, env: Record<string, string>, ready: RegExp) {
    const started = spawn(process.execPath, [`${root}examples/${file}`], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    let output = '';
    started.stdout?.setEncoding('utf8').on('data', (text: string) => {
      output += text;
    });
    started.stderr?.setEncoding('utf8').on('data', (text: string) => {
      output += text;
    });
    const exited = new Promise<number | null>((resolve) => started.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 20_000;
    while (!ready.test(output)) {
      if (Date.now() > deadline || started.exitCode !== null) throw new Error(`${file}:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return { output: () => output, exited, stop: () => started.kill('SIGTERM') };
  }

  it('embedding.ts starts the gateway, answers /healthz, and exits 0 on SIGTERM', async () => {
    const [port, metrics] = [await freePort(), await freePort()];
    const gateway = await run(
      'embedding.ts',
      { PORT: String(port), OTEL_EXPORTER_PROMETHEUS_PORT: String(metrics), ALCHEMIST_CONFIG: '' },
      /gateway on http:/,
    );
    expect(gateway.output()).toContain(`gateway on http://127.0.0.1:${port}`);
    expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()).toEqual({ status: 'ok' });
    gateway.stop();
    expect(await gateway.exited).toBe(0);
  });

  it('simulator.ts starts, prints its URL and stats, and exits 0', async () => {
    const sim = await run('simulator.ts', {}, /http:\/\/127\.0\.0\.1:\d+ \{/);
    expect(await sim.exited).toBe(0);
    expect(sim.output()).toMatch(/requests: 0/);
  });

  it('telemetry.ts starts the SDK on the Prometheus port it names and exits 0 (nothing else keeps it alive)', async () => {
    const metrics = await freePort();
    const telemetry = await run(
      'telemetry.ts',
      { OTEL_EXPORTER_PROMETHEUS_PORT: String(metrics) },
      /metrics on/,
    );
    expect(await telemetry.exited).toBe(0);
    expect(telemetry.output()).toBe(`metrics on http://127.0.0.1:${metrics}/metrics\n`);
  });
});
