/**
 * What a hung Redis costs a request: a gateway (in this process, default config apart from its tier)
 * on a redis-server this script starts, under closed-loop load of repeated prompts (memory hits) and
 * new prompts (misses); after `--before` seconds the server is SIGSTOPped for `--frozen` seconds.
 * Prints p50/p99/max per phase and kind, then SIGCONTs and stops the server.
 *
 * Usage: node bench/redis-hang.ts [--port 6404] [--connections 16] [--before 2] [--frozen 4]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { parseConfig } from '../src/gateway/config/index.ts';
import { createGateway } from '../src/gateway/gateway.ts';
import { silentLogger } from '../src/gateway/log.ts';
import { startSimulator } from '../src/simulator/index.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '6404' },
    connections: { type: 'string', default: '16' },
    before: { type: 'string', default: '2' },
    frozen: { type: 'string', default: '4' },
  },
});
const redisPort = Number(values.port);
const connections = Number(values.connections);
const beforeMs = Number(values.before) * 1000;
const frozenMs = Number(values.frozen) * 1000;

async function startRedisServer(): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 50; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (child.exitCode !== null) throw new Error(`redis-server could not start on port ${redisPort}`);
    const ok = await fetch(`http://127.0.0.1:${redisPort}`).then(
      () => true,
      (error: { cause?: { code?: string } }) => error.cause?.code !== 'ECONNREFUSED',
    );
    if (ok) return child;
  }
  throw new Error('redis-server did not start');
}

const redis = await startRedisServer();
const sim = await startSimulator({ latencyMs: 5 });
const config = parseConfig(`
[server]
port = 0
[cache]
redis_url = "redis://127.0.0.1:${redisPort}"
[tiers.standard]
requests_per_minute = 10000000
tokens_per_minute = 1000000000
[rate_limit]
default_tier = "standard"
[providers.sim]
type = "openai"
base_url = "${sim.url}/v1"
[ai_models."gpt-4o-mini"]
provider = "sim"
`);
const gateway = await createGateway(config, {
  telemetry: false,
  logger: silentLogger,
  localAdminToken: false,
});
const { url } = await gateway.start();

type Kind = 'hit' | 'miss';
type Phase = 'before' | 'frozen';
const samples: Record<Phase, Record<Kind, number[]>> = {
  before: { hit: [], miss: [] },
  frozen: { hit: [], miss: [] },
};
let phase: Phase = 'before';
let running = true;
let errors = 0;
let n = 0;
const body = (prompt: string) =>
  JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] });
const post = (prompt: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench-redis-hang' },
    body: body(prompt),
  });
for (let i = 0; i < 8; i++) await (await post(`repeated ${i}`)).arrayBuffer();

async function worker(): Promise<void> {
  while (running) {
    const i = n++;
    const kind: Kind = i % 2 === 0 ? 'hit' : 'miss';
    const started = performance.now();
    const at = phase;
    const response = await post(kind === 'hit' ? `repeated ${i % 8}` : `new ${i}`);
    await response.arrayBuffer();
    if (response.status !== 200) errors++;
    samples[at][kind].push(performance.now() - started);
  }
}

const workers = Array.from({ length: connections }, worker);
await new Promise((resolve) => setTimeout(resolve, beforeMs));
redis.kill('SIGSTOP');
phase = 'frozen';
await new Promise((resolve) => setTimeout(resolve, frozenMs));
running = false;
redis.kill('SIGCONT');
await Promise.all(workers);

const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
  return {
    n: sorted.length,
    p50: Math.round(at(50)),
    p99: Math.round(at(99)),
    max: Math.round(at(100)),
    // Requests that waited for a Redis timeout of the old default (1 s), whatever the machine load.
    over900ms: sorted.filter((ms) => ms >= 900).length,
  };
};
console.log(
  JSON.stringify({
    redisTimeoutMs: config.cache.redisTimeoutMs,
    connections,
    errors,
    before: { hit: stats(samples.before.hit), miss: stats(samples.before.miss) },
    frozen: { hit: stats(samples.frozen.hit), miss: stats(samples.frozen.miss) },
  }),
);
await gateway.stop();
await sim.close();
redis.kill('SIGKILL');
