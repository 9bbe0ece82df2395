/**
 * Portkey's open-source gateway (`@portkey-ai/gateway`) as a peer to measure beside the pack: installed
 * on demand into a scratch folder (never a dependency of this package), started as its own process
 * with the peer agent preloaded (same stats protocol as our systems, loopback only), and pointed at
 * the simulated provider per request, as its users do, with `x-portkey-provider` and
 * `x-portkey-custom-host`.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SystemProcess, spawnChild } from '../processes.ts';

export const PORTKEY_PACKAGE = '@portkey-ai/gateway';
export const PORTKEY_VERSION = '1.15.2';

/**
 * The versions Portkey's own lockfile (1.15.2) builds and tests with. A plain install resolves
 * `@hono/node-server` ^1.3.3 to 1.19.x, whose lightweight `Response` keeps the upstream fetch
 * response's immutable `Headers`, so every streamed answer fails with `TypeError: immutable` (HTTP
 * 500); pinned like its lockfile, Portkey streams as released.
 */
export const PORTKEY_OVERRIDES: Readonly<Record<string, string>> = {
  '@hono/node-server': '1.13.5',
  hono: '4.9.7',
};

const AGENT = fileURLToPath(new URL('./peer-agent.ts', import.meta.url));
const INSTALL_TIMEOUT_MS = 180_000;

/** The scratch folder's package.json: Portkey pinned, its dependencies as in its lockfile. */
export function peerPackageJson(): string {
  const manifest = {
    name: 'alchemist-perf-bench-peers',
    private: true,
    description: 'Peer gateways installed by `npm run bench -- --scenario peers`; safe to delete.',
    dependencies: { [PORTKEY_PACKAGE]: PORTKEY_VERSION },
    overrides: PORTKEY_OVERRIDES,
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Portkey's start script in `dir`, when the pinned version and overrides are installed there. */
export function installedPortkey(dir: string): string | undefined {
  const packageDir = join(dir, 'node_modules', ...PORTKEY_PACKAGE.split('/'));
  try {
    const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
      version?: string;
      bin?: string | Record<string, string>;
    };
    if (manifest.version !== PORTKEY_VERSION) return undefined;
    for (const [name, version] of Object.entries(PORTKEY_OVERRIDES)) {
      const installed = JSON.parse(
        readFileSync(join(dir, 'node_modules', ...name.split('/'), 'package.json'), 'utf8'),
      ) as { version?: string };
      if (installed.version !== version) return undefined;
    }
    const bin = typeof manifest.bin === 'string' ? manifest.bin : Object.values(manifest.bin ?? {})[0];
    const entry = join(packageDir, bin ?? 'build/start-server.js');
    return existsSync(entry) ? entry : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Install Portkey into `dir` with npm unless it is already there; resolves to its start script.
 * `--ignore-scripts`: its only install script runs patch-package, whose patches it does not publish.
 */
export async function ensurePortkey(dir: string, log: (line: string) => void): Promise<string> {
  const ready = installedPortkey(dir);
  if (ready) return ready;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), peerPackageJson());
  log(`  installing ${PORTKEY_PACKAGE}@${PORTKEY_VERSION} into ${dir} (npm, once)`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  await new Promise<void>((resolve, reject) => {
    execFile(
      npm,
      ['install', '--prefix', dir, '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'],
      { timeout: INSTALL_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 },
      (error, _stdout, stderr) => {
        if (!error) return resolve();
        const why = stderr.trim().split('\n').slice(-3).join(' ') || error.message;
        reject(new Error(`npm install ${PORTKEY_PACKAGE}@${PORTKEY_VERSION} failed: ${why}`));
      },
    );
  });
  const entry = installedPortkey(dir);
  if (!entry)
    throw new Error(`npm install finished but ${PORTKEY_PACKAGE}@${PORTKEY_VERSION} is not in ${dir}`);
  return entry;
}

/** Start Portkey on a free loopback port (`--port=0`, host forced by the agent), no UI. */
export function startPortkey(name: string, entry: string): Promise<SystemProcess> {
  return spawnChild(name, ['--expose-gc', '--import', AGENT, entry, '--port=0', '--headless'], {
    // It clears the terminal and draws a spinner on start: keep its output for error messages only.
    captureOutput: true,
    env: { BENCH_PEER_AGENT: '1', NODE_ENV: 'production' },
  });
}

/**
 * The headers a Portkey user sends to reach an OpenAI-compatible provider at `upstream` with no
 * config: the provider, its base URL (Portkey appends `/chat/completions`), and the provider key.
 */
export function portkeyHeaders(upstream: string): Record<string, string> {
  return {
    'x-portkey-provider': 'openai',
    'x-portkey-custom-host': `${upstream.replace(/\/+$/, '')}/v1`,
    authorization: 'Bearer bench-provider-key',
  };
}
