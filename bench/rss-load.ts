/**
 * Does the gateway's memory grow under load and stay (issue 13 #12)? Starts a gateway process with
 * the default tiers (token limits on) and its built-in simulator, drives it closed-loop with undici at
 * 200 connections for `--seconds`, idles, and repeats for `--runs`; prints RSS during and after each
 * run, and the live heap after a forced GC with V8's heap spaces. A leak grows the live heap run over
 * run; V8 sizing grows RSS once and then holds it with a flat live heap.
 *
 *   node bench/rss-load.ts [--seconds 60] [--runs 2] [--idle 20] [--connections 200]
 *   NODE_FLAGS="--max-semi-space-size=8" node bench/rss-load.ts     # flags for the gateway process
 */
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { heapAfterGc } from '../test/e2e/harness/inspector.ts';
import { rssOf } from '../test/e2e/harness/proc.ts';
import { startGateway } from '../test/helpers/gateway.ts';
import { freePort } from '../test/helpers/ports.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    runs: { type: 'string', default: '2' },
    idle: { type: 'string', default: '20' },
    connections: { type: 'string', default: '200' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const mb = (bytes: number | undefined) => (bytes === undefined ? '?' : `${Math.round(bytes / 1e6)} MB`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const WORDS = (
  'the a model cache answer latency token stream request provider tenant budget circuit breaker limit ' +
  'queue window fallback retry upstream gateway metric trace span replay memory policy decision value ' +
  'signal deadline chunk reply prompt system user assistant context internationalization serialisation ' +
  'observability reconfiguration undercapitalised characteristically'
).split(' ');
/** Half the prompts repeat (cache hits), half are new (misses: estimated, proxied, stored). */
function prompt(i: number): string {
  if (i % 2 === 0) return `Question ${i % 200}: what does the cache do with a stale entry?`;
  const words: string[] = [`Unique ${i}:`];
  const length = 50 + (i % 400);
  for (let w = 0; w < length; w++) words.push(WORDS[(i * 31 + w * 17) % WORDS.length]!);
  // A rare long word (the tokenizer caches words like this one).
  words.push(`zq${i.toString(36)}xylophonequartz`);
  return words.join(' ');
}

const inspectPort = await freePort();
const gateway = await startGateway({
  name: 'rss-load',
  env: {
    NODE_OPTIONS: `--inspect=127.0.0.1:${inspectPort} ${process.env.NODE_FLAGS ?? ''}`.trim(),
    OPENAI_API_KEY: undefined,
    ANTHROPIC_API_KEY: undefined,
    ALCHEMIST_CONFIG: undefined,
    REDIS_URL: undefined,
  },
  scanSecrets: false,
});
const pool = new Pool(gateway.url, { connections });
try {
  const send = async (i: number) => {
    const response = await pool.request({
      path: '/v1/chat/completions',
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer sk-load-${i % 100_000}` },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt(i) }] }),
    });
    await response.body.dump();
    return response.statusCode;
  };
  await send(1);
  await sleep(1000);
  process.stdout.write(
    `idle after start: RSS ${mb(rssOf(gateway.pid))}, heap after GC ${mb(await heapAfterGc(inspectPort))}\n`,
  );
  let next = 0;
  for (let run = 1; run <= Number(values.runs); run++) {
    const deadline = performance.now() + seconds * 1000;
    const statuses = new Map<number, number>();
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssOf(gateway.pid) ?? 0);
    }, 1000);
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < deadline) {
          const status = await send(next++).catch(() => 0);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      }),
    );
    clearInterval(sampler);
    const end = rssOf(gateway.pid);
    await sleep(Number(values.idle) * 1000);
    const idle = rssOf(gateway.pid);
    const heap = await heapAfterGc(inspectPort);
    const afterGc = rssOf(gateway.pid);
    const counts = [...statuses].map(([status, n]) => `${status}: ${n}`).join(', ');
    process.stdout.write(
      `run ${run} (${seconds} s, ${connections} connections; ${counts}): RSS peak ${mb(peak)}, ` +
        `end ${mb(end)}, after ${values.idle} s idle ${mb(idle)}, after a forced GC ${mb(afterGc)}; ` +
        `live heap ${mb(heap)}\n`,
    );
  }
} finally {
  await pool.close();
  await gateway.kill();
}
