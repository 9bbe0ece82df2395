/**
 * How long one huge single-word prompt blocks a gateway (issue 13 #1): starts `alchemist-perf serve`
 * with a token-limited tier and its built-in simulator, sends prompts of the given sizes one at a
 * time, and polls `/healthz` while each is in flight. The longest `/healthz` wait is the event-loop
 * block the prompt caused.
 *
 *   node bench/huge-prompt.ts [KiB ...]          # default: 128 1024
 *   ROOT=/path/to/other/checkout node bench/huge-prompt.ts 128   # measure another version
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = process.env.ROOT ?? fileURLToPath(new URL('..', import.meta.url));
/** A request still unanswered after this long is abandoned (and reported as "more than"). */
const GIVE_UP_MS = Number(process.env.GIVE_UP_MS ?? 120_000);
const sizesKib = process.argv.slice(2).map(Number);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'huge-prompt-'));
const config = join(dir, 'alchemist.toml');
writeFileSync(
  config,
  [
    '[server]',
    'host = "127.0.0.1"',
    `max_body_bytes = ${4 * 1024 * 1024}`,
    '[rate_limit]',
    'default_tier = "free"',
    '[tiers.free]',
    'requests_per_minute = 1000',
    'tokens_per_minute = 1000000000',
  ].join('\n'),
);
const port = await freePort();
const child = spawn(process.execPath, [join(ROOT, 'src/cli/main.ts'), 'serve', '--config', config], {
  cwd: ROOT,
  env: { ...process.env, PORT: String(port), OTEL_EXPORTER_PROMETHEUS_PORT: String(await freePort()) },
  stdio: 'ignore',
});
const url = `http://127.0.0.1:${port}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function post(content: string): Promise<number> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-x', messages: [{ role: 'user', content }] }),
    signal: AbortSignal.timeout(GIVE_UP_MS),
  });
  await response.arrayBuffer();
  return response.status;
}

try {
  for (let i = 0; ; i++) {
    if (i > 600) throw new Error('gateway did not start');
    if (
      await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await sleep(50);
  }
  await post('warm up: load the tokenizer'); // the first token-limited request loads it
  for (const kib of sizesKib.length > 0 ? sizesKib : [128, 1024]) {
    const started = performance.now();
    let pending = true;
    const answer = post('A'.repeat(kib * 1024)).then(
      (status) => String(status),
      (error: unknown) => (error instanceof Error ? error.name : String(error)),
    );
    void answer.finally(() => {
      pending = false;
    });
    let longest = 0;
    while (pending) {
      const sent = performance.now();
      const ok = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(GIVE_UP_MS) }).then(
        (r) => r.ok,
        () => false,
      );
      longest = Math.max(longest, performance.now() - sent);
      if (!ok) break;
      await sleep(10);
    }
    const status = await answer;
    const total = performance.now() - started;
    const more = status === 'TimeoutError' ? '> ' : '';
    process.stdout.write(
      `${kib} KiB single word: answered ${status} in ${more}${Math.round(total)} ms; ` +
        `longest /healthz wait meanwhile ${more}${Math.round(longest)} ms\n`,
    );
  }
} finally {
  child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
