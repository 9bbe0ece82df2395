import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateInputTokens, loadTokenizer } from '../../src/ratelimit/tokens.ts';
import type { Simulator } from '../../src/simulator/index.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { type GatewayProcess, startGateways } from '../helpers/gateway.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { parsePrometheus, sumOf } from './harness/prometheus.ts';

// Two gateway processes, one Redis, one simulated provider priced at $1 a token: one tenant's spend is
// shared and exact across both, the 429 is exact, cache hits still answer over budget, and the admin
// endpoint, the CLI and the metrics all say what the client counted.

await loadTokenizer();

const PROVIDER_KEY = 'sk-provider-budget-2c4e6a8b0d';
const SHARED = 'sk-shared-budget-1a3c5e7f9b';
const SOLO = 'sk-solo-budget-9f7e5d3c1b';
const STREAMER = 'sk-streamer-budget-5b7d9f1a3c';
const ADMIN_TOKEN = 'admin-budget-4d6f8a0c2e';
const BUDGET = 150;
const MODEL = 'budget-model';
const BIN = join(import.meta.dirname, '../../bin/alchemist-perf.js');

let redis: RedisServer;
let sim: Simulator;
let gateways: GatewayProcess[] = [];

const config = (simUrl: string) => `
[server]
host = "127.0.0.1"
[cache]
default_ttl = 600
[rate_limit]
default_tier = "metered"
budget_alert_at = 0.5
[tiers.metered]
requests_per_minute = 100000
budget_usd = ${BUDGET}
budget_period = "day"
[[api_keys]]
key = "${SHARED}"
tenant = "shared"
tier = "metered"
[[api_keys]]
key = "${SOLO}"
tenant = "solo"
tier = "metered"
budget_usd = 0
[[api_keys]]
key = "${STREAMER}"
tenant = "streamer"
tier = "metered"
budget_usd = 1000
[providers.sim]
type = "openai"
base_url = "${simUrl}/v1"
api_key_env = "SIM_KEY"
[ai_models.${MODEL}]
provider = "sim"
input_price = 1000000
output_price = 1000000
[breaker]
max_retries = 0
`;

beforeAll(async () => {
  [redis, sim] = await Promise.all([
    startRedis(),
    startSimulator({ apiKey: PROVIDER_KEY, latencyMs: 5, chunkDelayMs: 25 }),
  ]);
  gateways = await startGateways(2, {
    name: 'budgets',
    redisUrl: redis.url,
    adminToken: ADMIN_TOKEN,
    env: { SIM_KEY: PROVIDER_KEY },
    config: config(sim.url),
  });
});
afterAll(async () => {
  await Promise.all(gateways.map((gw) => gw.stop()));
  await Promise.all([sim?.close(), redis?.stop()]);
});

const body = (prompt: string, extra: Record<string, unknown> = {}) => ({
  model: MODEL,
  messages: [{ role: 'user', content: prompt }],
  max_tokens: 5,
  ...extra,
});
/** What the gateway reserves for `body(prompt)`: its prompt tokens + 5 output tokens, at $1 each. */
const estimateOf = (prompt: string) => estimateInputTokens(body(prompt)) + 5;

async function post(gw: GatewayProcess, key: string, payload: unknown) {
  const response = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(payload),
    signal: AbortSignal.timeout(20_000),
  });
  return { response, text: await response.text() };
}

async function admin(gw: GatewayProcess, path: string, token = ADMIN_TOKEN) {
  const response = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

const nextMidnight = () => {
  const now = new Date();
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
};

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Spend the client counted for the shared tenant: priced usage of every answer that reached the provider. */
let spent = 0;
/** What the abandoned stream's tenant was charged, as the ledger reported it. */
let streamerSpent = 0;
let first = '';

describe('budgets across two gateway processes', () => {
  it('a stream is charged on its final usage chunk', async () => {
    const prompt = `budget stream ${Date.now()}`;
    const { response, text } = await post(
      gateways[0]!,
      SHARED,
      body(prompt, { stream: true, stream_options: { include_usage: true } }),
    );
    expect(response.status).toBe(200);
    const chunks = text
      .split('\n')
      .filter((line) => line.startsWith('data: ') && line !== 'data: [DONE]')
      .map(
        (line) =>
          JSON.parse(line.slice(6)) as { usage?: { prompt_tokens: number; completion_tokens: number } },
      );
    const usage = chunks.at(-1)?.usage;
    expect(usage).toBeDefined();
    spent += usage!.prompt_tokens + usage!.completion_tokens;
    // Settled when the stream ended, on the other process' view too (Redis).
    let reported: unknown;
    for (let i = 0; i < 50; i++) {
      const { json } = await admin(gateways[1]!, '/admin/budgets');
      reported = (json.budgets as { tenant: string; spent_usd: number }[]).find(
        (b) => b.tenant === 'shared',
      )?.spent_usd;
      if (reported === spent) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(reported).toBe(spent);
  });

  it('admits while spent + the estimate fits the budget, alternating processes, then answers an exact 429', async () => {
    let rejected: { response: Response; text: string; prompt: string; spentBefore: number } | undefined;
    for (let i = 0; i < 40 && !rejected; i++) {
      const prompt = `budget call ${i} ${Date.now()}`;
      if (i === 0) first = prompt;
      const { response, text } = await post(gateways[i % 2]!, SHARED, body(prompt));
      if (response.status === 429) {
        rejected = { response, text, prompt, spentBefore: spent };
        break;
      }
      expect(response.status).toBe(200);
      // Admitted only when the spend so far plus this call's estimate fitted.
      expect(spent + estimateOf(prompt)).toBeLessThanOrEqual(BUDGET);
      const { usage } = JSON.parse(text) as { usage: { prompt_tokens: number; completion_tokens: number } };
      spent += usage.prompt_tokens + usage.completion_tokens;
      // Past half the budget, answers say what is left (spent, no call in flight).
      const remaining = response.headers.get('x-alchemist-budget-remaining');
      expect(remaining).toBe(spent >= BUDGET / 2 ? (BUDGET - spent).toFixed(6) : null);
    }
    expect(rejected).toBeDefined();
    const { response, text, prompt } = rejected!;
    expect(spent + estimateOf(prompt)).toBeGreaterThan(BUDGET);
    const resetsAt = nextMidnight();
    expect(JSON.parse(text)).toEqual({
      error: {
        message: `Budget exceeded: $${BUDGET} per day, $${spent.toFixed(6)} spent and $0.000000 reserved, this call needs up to $${estimateOf(prompt).toFixed(6)}; it resets at ${new Date(resetsAt).toISOString()}`,
        type: 'insufficient_quota',
        code: 'budget_exceeded',
      },
    });
    const retryAfter = Number(response.headers.get('retry-after'));
    const untilMidnight = Math.ceil((resetsAt - Date.now()) / 1000);
    expect(retryAfter).toBeGreaterThanOrEqual(untilMidnight - 1);
    expect(retryAfter).toBeLessThanOrEqual(untilMidnight + 30);
    // And on the other process too.
    expect((await post(gateways[1]!, SHARED, body(`${prompt} again`))).response.status).toBe(429);
  });

  it('answers cache hits over budget (they cost nothing), on both processes', async () => {
    for (const gw of gateways) {
      const { response } = await post(gw, SHARED, body(first));
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-status')).toMatch(/; hit/);
    }
  });

  it('an abandoned stream is charged for what it produced: the prompt and the output so far', async () => {
    const prompt = `budget abandoned ${Date.now()}`;
    const payload = body(prompt, { stream: true, max_tokens: 200 });
    const controller = new AbortController();
    const response = await fetch(`${gateways[0]!.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${STREAMER}` },
      body: JSON.stringify(payload),
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    let received = '';
    while ((received.match(/"content":"[^"]+"/g) ?? []).length < 3) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`the stream ended before 3 content chunks: ${received}`);
      received += new TextDecoder().decode(value);
    }
    controller.abort();
    const promptUsd = estimateInputTokens(payload);
    let streamer: { spent_usd: number; reserved_usd: number } | undefined;
    for (let i = 0; i < 100; i++) {
      const { json } = await admin(gateways[1]!, '/admin/budgets');
      streamer = (json.budgets as { tenant: string; spent_usd: number; reserved_usd: number }[]).find(
        (b) => b.tenant === 'streamer',
      );
      if (streamer && streamer.reserved_usd === 0 && streamer.spent_usd > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // The prompt at its estimate plus the few output tokens produced before the abort: more than the
    // prompt and the 3 chunks the client saw, far less than the 200 tokens the call allowed.
    expect(streamer?.reserved_usd).toBe(0);
    expect(streamer!.spent_usd).toBeGreaterThanOrEqual(promptUsd + 3);
    expect(streamer!.spent_usd).toBeLessThan(promptUsd + 100);
    streamerSpent = streamer!.spent_usd;
  });

  it("a key's own budget replaces its tier's", async () => {
    const { response, text } = await post(gateways[0]!, SOLO, body('solo call'));
    expect(response.status).toBe(429);
    expect((JSON.parse(text) as { error: { code: string } }).error.code).toBe('budget_exceeded');
  });

  it('GET /admin/budgets lists every tenant with its budget and exact spend, behind the admin token', async () => {
    expect((await admin(gateways[0]!, '/admin/budgets', 'wrong-token')).status).toBe(401);
    const resetsAt = new Date(nextMidnight()).toISOString();
    for (const gw of gateways) {
      const { status, json } = await admin(gw, '/admin/budgets');
      expect(status).toBe(200);
      expect(json).toEqual({
        budgets: [
          {
            tenant: 'shared',
            tier: 'metered',
            budget_usd: BUDGET,
            spent_usd: spent,
            reserved_usd: 0,
            period: 'day',
            resets_at: resetsAt,
          },
          {
            tenant: 'solo',
            tier: 'metered',
            budget_usd: 0,
            spent_usd: 0,
            reserved_usd: 0,
            period: 'day',
            resets_at: resetsAt,
          },
          {
            tenant: 'streamer',
            tier: 'metered',
            budget_usd: 1000,
            spent_usd: streamerSpent,
            reserved_usd: 0,
            period: 'day',
            resets_at: resetsAt,
          },
        ],
        mode: 'redis',
      });
    }
    const ready = (await (await fetch(`${gateways[0]!.url}/readyz`)).json()) as Record<string, unknown>;
    expect(ready.budgets).toEqual({ mode: 'redis', degraded: false });
  });

  it('alchemist-perf budgets prints the table and --json', async () => {
    const table = await cli(['budgets', '--url', gateways[1]!.url, '--token', ADMIN_TOKEN]);
    expect(table.stderr).toBe('');
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(`Budgets at ${gateways[1]!.url} (redis)`);
    expect(table.stdout).toMatch(
      new RegExp(
        `shared\\s+metered\\s+\\$${BUDGET}\\.00\\s+\\$${spent}\\.00\\s+${((spent / BUDGET) * 100).toFixed(1)}%\\s+day`,
      ),
    );
    expect(table.stdout).toMatch(/solo\s+metered\s+\$0\.000000\s+\$0\.000000\s+-\s+day/);
    const json = await cli(['budgets', '--json', '--url', gateways[1]!.url, '--token', ADMIN_TOKEN]);
    expect(JSON.parse(json.stdout)).toEqual((await admin(gateways[1]!, '/admin/budgets')).json);
  });

  it('metrics count spend and decisions by tier only, summing to the truth across processes', async () => {
    const samples = (await Promise.all(gateways.map((gw) => gw.metrics()))).flatMap(parsePrometheus);
    // Whole dollars at $1 a token: the ledger's micro-dollars and the counter's float agree exactly.
    expect(sumOf(samples, 'alchemist_budget_spent_total', { alchemist_tier: 'metered' })).toBeCloseTo(
      spent + streamerSpent,
      9,
    );
    // The stream, the admitted calls, and 3 rejections (shared twice, solo once); hits never reach the budget.
    expect(sumOf(samples, 'alchemist_budget_requests_total', { alchemist_budget_result: 'rejected' })).toBe(
      3,
    );
    const utilization = samples.filter((s) => s.name === 'alchemist_budget_utilization');
    // The tier's highest: solo's budget of 0 is used up (shared is at spent / BUDGET).
    expect(Math.max(...utilization.map((s) => s.value))).toBe(1);
    for (const sample of samples.filter((s) => s.name.startsWith('alchemist_budget_'))) {
      expect(Object.keys(sample.labels).filter((label) => label.includes('tenant'))).toEqual([]);
    }
  });
});
