/**
 * Traffic of known composition for the dashboard value test: every request's outcome and cache result
 * is read from what the gateway answered (status, error code, `Cache-Status`), and its cost and tokens
 * from the answer's usage, so the truth comes from the client side, never from the metrics under test.
 * Bounded: about 60 requests, a few seconds.
 */
import { costOf } from '../../src/telemetry/prices.ts';

export interface KnownTrafficOptions {
  readonly gatewayUrl: string;
  readonly simulatorUrl: string;
  readonly proKey: string;
  readonly freeKey: string;
  /** Seconds an open breaker waits before its probe. */
  readonly halfOpenAfterSeconds: number;
}

/** One request as the client saw it. */
export interface Seen {
  readonly model: string;
  readonly status: number;
  /** `alchemist.outcome` the gateway must record for it. */
  readonly outcome: 'success' | 'rate_limited' | 'overloaded' | 'circuit_open' | 'upstream_error';
  /** `alchemist.cache.result` it must carry. */
  readonly cache: 'hit' | 'miss' | 'coalesced' | 'bypass' | 'none';
  readonly usage?: { readonly input: number; readonly output: number };
}

export interface Truth {
  readonly seen: readonly Seen[];
  count(filter: (seen: Seen) => boolean): number;
  /** Upstream spend: priced usage of the answers that reached the provider (miss, bypass). */
  readonly costUsd: number;
  /** Tokens and spend the cache hits saved (the stored answer's usage). */
  readonly tokensSaved: number;
  readonly costSavedUsd: number;
  /** Answers stored in the memory layer: one per successful miss. */
  readonly entries: number;
}

const unique = (label: string) => `${label} ${Date.now()} ${Math.random().toString(36).slice(2)}`;

async function setSimulatorMode(simulatorUrl: string, mode: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${simulatorUrl}/_sim/mode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(mode),
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) throw new Error(`simulator mode ${JSON.stringify(mode)}: HTTP ${response.status}`);
}

function classify(model: string, status: number, cacheStatus: string, body: unknown): Seen {
  const answer = body as {
    error?: { code?: string };
    usage?: { prompt_tokens: number; completion_tokens: number };
  };
  const cache: Seen['cache'] = /;\s*hit/.test(cacheStatus)
    ? 'hit'
    : /collapsed/.test(cacheStatus)
      ? 'coalesced'
      : /fwd=bypass/.test(cacheStatus)
        ? 'bypass'
        : status === 429
          ? 'none'
          : 'miss';
  const code = answer.error?.code;
  const outcome: Seen['outcome'] =
    status === 200
      ? 'success'
      : status === 429
        ? 'rate_limited'
        : code === 'circuit_open'
          ? 'circuit_open'
          : status === 503
            ? 'overloaded'
            : 'upstream_error';
  const usage =
    status === 200 && answer.usage
      ? { input: answer.usage.prompt_tokens, output: answer.usage.completion_tokens }
      : undefined;
  return { model, status, outcome, cache, ...(usage ? { usage } : {}) };
}

/** Drive the traffic; resolves with what the client saw. */
export async function knownTraffic(options: KnownTrafficOptions): Promise<Truth> {
  const seen: Seen[] = [];
  const chat = async (key: string, model: string, prompt: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${options.gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: prompt }], max_tokens: 64 }),
      // Generous: a loaded CI machine, and a failing call that waits out its retries' backoff.
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    const one = classify(
      model,
      response.status,
      response.headers.get('cache-status') ?? '',
      JSON.parse(text),
    );
    seen.push(one);
    return one;
  };
  const pro = (model: string, prompt: string, headers?: Record<string, string>) =>
    chat(options.proKey, model, prompt, headers);

  // Misses, then hits on two of them, then no-store bypasses.
  const prompts = Array.from({ length: 4 }, (_, index) => unique(`known ${index}`));
  for (const prompt of prompts) await pro('gpt-4o', prompt);
  for (let repeat = 0; repeat < 3; repeat++)
    for (const prompt of prompts.slice(0, 2)) await pro('gpt-4o', prompt);
  for (let i = 0; i < 2; i++) await pro('gpt-4o', prompts[0]!, { 'cache-control': 'no-store' });
  // Identical calls at once: one goes upstream, the others wait for it (or hit, if it already landed).
  const same = unique('together');
  await Promise.all(Array.from({ length: 6 }, () => pro('claude-3-5-sonnet', same)));
  // The free tier allows 30 requests a minute: the rest are answered 429 at once.
  for (let i = 0; i < 34; i++) await chat(options.freeKey, 'claude-3-5-sonnet', unique(`free ${i}`));
  // Two calls a minute on claude-3-sonnet: the others would wait too long and get 503 at once.
  await Promise.all(Array.from({ length: 5 }, (_, i) => pro('claude-3-sonnet', unique(`overload ${i}`))));
  // The provider fails gpt-4o-mini: 502s (after retries), the breakers open (503 circuit_open); then
  // it recovers, the half-open probe succeeds and the breakers close.
  await setSimulatorMode(options.simulatorUrl, { fail: '500', model: 'gpt-4o-mini', rate: 1 });
  try {
    let open = 0;
    for (let i = 0; i < 12 && open < 3; i++) {
      if ((await pro('gpt-4o-mini', unique('failing'))).outcome === 'circuit_open') open++;
    }
  } finally {
    await setSimulatorMode(options.simulatorUrl, { fail: 'none', model: null });
  }
  await new Promise((resolve) => setTimeout(resolve, options.halfOpenAfterSeconds * 1000 + 200));
  for (let i = 0; i < 10; i++) {
    if ((await pro('gpt-4o-mini', unique('probe'))).status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }

  const priced = (one: Seen) =>
    one.usage ? costOf(one.model, { inputTokens: one.usage.input, outputTokens: one.usage.output }) : 0;
  const sum = (filter: (one: Seen) => boolean, value: (one: Seen) => number) =>
    seen.filter(filter).reduce((total, one) => total + value(one), 0);
  const upstream = (one: Seen) => one.status === 200 && (one.cache === 'miss' || one.cache === 'bypass');
  const hit = (one: Seen) => one.cache === 'hit';
  return {
    seen,
    count: (filter) => seen.filter(filter).length,
    costUsd: sum(upstream, priced),
    tokensSaved: sum(hit, (one) => (one.usage ? one.usage.input + one.usage.output : 0)),
    costSavedUsd: sum(hit, priced),
    entries: seen.filter((one) => one.status === 200 && one.cache === 'miss').length,
  };
}
