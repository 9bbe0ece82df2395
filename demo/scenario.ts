/**
 * Traffic that exercises every decision the dashboards show: cache hits, misses, bypasses and
 * coalesced calls, streams, 429s from a small tier, queueing and 503s on a tight model limit, and a
 * failure episode on the simulated provider (retries, fallbacks, a breaker that opens and closes).
 * demo/traffic.ts loops over it for docker-compose; test/observability/live.test.ts runs it once.
 * Every loop is bounded in count and time.
 */

export interface ScenarioOptions {
  /** Gateway base URL, e.g. `http://127.0.0.1:8787`. */
  readonly gatewayUrl: string;
  /** Simulator base URL, for switching failure modes (`POST /_sim/mode`). */
  readonly simulatorUrl: string;
  /** A key of a generous tier (most traffic). */
  readonly proKey: string;
  /** A key of a small tier (bursts get 429). */
  readonly freeKey: string;
  /** Models with a generous outbound limit. @example ['gpt-4o', 'gpt-4o-mini'] */
  readonly models: readonly string[];
  /** A model with a tight outbound limit and concurrency (queue, then 503). */
  readonly tightModel: string;
  /** A model allowing a couple of calls a minute (the rest: 503 overloaded). */
  readonly overloadModel?: string;
  /** A model without fallbacks, whose breaker the failure episode opens. */
  readonly failingModel: string;
  /** A model with a fallback configured (the episode fails it too, the fallback answers). */
  readonly fallbackModel?: string;
  /** Seconds an open breaker waits before probing (config `breaker.half_open_after`). */
  readonly halfOpenAfterSeconds: number;
  /** Per-request timeout in ms. @default 15000 */
  readonly timeoutMs?: number;
  /** Progress lines. @default none */
  readonly log?: (line: string) => void;
}

/** What the gateway answered, counted by status and by cache outcome (`Cache-Status` header). */
export interface Tally {
  readonly statuses: Record<string, number>;
  readonly cache: Record<string, number>;
}

interface Answer {
  readonly status: number;
  readonly cacheStatus: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function newTally(): Tally {
  return { statuses: {}, cache: {} };
}

function count(tally: Tally, answer: Answer): Answer {
  tally.statuses[answer.status] = (tally.statuses[answer.status] ?? 0) + 1;
  const outcome =
    /fwd=([a-z-]+)/.exec(answer.cacheStatus)?.[1] ?? (/; hit/.test(answer.cacheStatus) ? 'hit' : 'none');
  tally.cache[outcome] = (tally.cache[outcome] ?? 0) + 1;
  return answer;
}

/** One chat completion through the gateway; streams are read to the end. */
async function chat(
  options: ScenarioOptions,
  tally: Tally,
  request: { key: string; model: string; prompt: string; stream?: boolean; headers?: Record<string, string> },
): Promise<Answer> {
  try {
    const response = await fetch(`${options.gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${request.key}`,
        'content-type': 'application/json',
        ...request.headers,
      },
      body: JSON.stringify({
        model: request.model,
        messages: [{ role: 'user', content: request.prompt }],
        max_tokens: 64,
        stream: request.stream ?? false,
      }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
    await response.text();
    return count(tally, { status: response.status, cacheStatus: response.headers.get('cache-status') ?? '' });
  } catch {
    return count(tally, { status: 0, cacheStatus: '' });
  }
}

async function setSimulatorMode(options: ScenarioOptions, mode: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${options.simulatorUrl}/_sim/mode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(mode),
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) throw new Error(`simulator mode ${JSON.stringify(mode)}: HTTP ${response.status}`);
}

const unique = (label: string) => `${label} ${Date.now()} ${Math.random().toString(36).slice(2)}`;

/** Popular prompts (hits after the first), fresh prompts (misses), `no-store` (bypass), streams. */
export async function cacheTraffic(options: ScenarioOptions, tally: Tally, rounds = 3): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    for (const [index, model] of options.models.entries()) {
      const popular = `What is the capital of country number ${index}?`;
      // Popular prompts are asked again and again: the cache answers most of them.
      for (let repeat = 0; repeat < 5; repeat++)
        await chat(options, tally, { key: options.proKey, model, prompt: popular });
      await chat(options, tally, { key: options.proKey, model, prompt: unique('Tell me something new') });
      await chat(options, tally, {
        key: options.proKey,
        model,
        prompt: `Stream a haiku about ${model}`,
        stream: true,
      });
      await chat(options, tally, {
        key: options.proKey,
        model,
        prompt: popular,
        headers: { 'cache-control': 'no-store' },
      });
    }
  }
}

/** Identical requests at once: one reaches the provider, the others wait for it (coalesced). */
export async function coalescedBurst(options: ScenarioOptions, tally: Tally, size = 6): Promise<void> {
  for (const model of options.models) {
    const prompt = unique('Everyone asks this at once');
    await Promise.all(
      Array.from({ length: size }, () => chat(options, tally, { key: options.proKey, model, prompt })),
    );
  }
}

/**
 * More requests than the small tier allows per minute or at once: 429 with Retry-After. In two waves a
 * few seconds apart: Prometheus only sees a counter's increase between two scrapes, and the first
 * wave creates the series.
 */
export async function tierBurst(options: ScenarioOptions, tally: Tally, size = 40): Promise<void> {
  const model = options.models[0]!;
  const wave = (count: number) =>
    Promise.all(
      Array.from({ length: count }, (_, index) =>
        chat(options, tally, { key: options.freeKey, model, prompt: `burst ${index} ${unique('free')}` }),
      ),
    );
  await wave(Math.ceil(size / 4));
  await sleep(2_500);
  await wave(size - Math.ceil(size / 4));
}

/**
 * Concurrent distinct calls to the tightly limited model (some wait in its queue), and to the model
 * allowing a couple of calls a minute (refused with 503 when the wait would be too long).
 */
export async function queuePressure(options: ScenarioOptions, tally: Tally, size = 24): Promise<void> {
  const calls = Array.from({ length: size }, (_, index) =>
    chat(options, tally, {
      key: options.proKey,
      model: options.tightModel,
      prompt: `queue ${index} ${unique('tight')}`,
    }),
  );
  const overload = options.overloadModel;
  if (overload) {
    for (let index = 0; index < 6; index++) {
      calls.push(
        chat(options, tally, {
          key: options.proKey,
          model: overload,
          prompt: `overload ${index} ${unique('o')}`,
        }),
      );
    }
  }
  await Promise.all(calls);
}

/**
 * The provider fails the failing (and fallback) model with 500s: retries, then the breaker opens and
 * calls fail fast with 503 (or a fallback answers); then the provider recovers, the half-open probe
 * succeeds and the breaker closes.
 */
export async function failureEpisode(options: ScenarioOptions, tally: Tally): Promise<void> {
  const failing = [options.failingModel, ...(options.fallbackModel ? [options.fallbackModel] : [])];
  const log = options.log ?? (() => {});
  try {
    // Intermittent errors first: every other attempt fails and a retry absorbs it, so the breaker
    // stays closed while upstream errors and retries accumulate over a few seconds.
    await setSimulatorMode(options, { fail: '500', model: options.failingModel, rate: 0.5 });
    for (let i = 0; i < 8; i++) {
      await chat(options, tally, {
        key: options.proKey,
        model: options.failingModel,
        prompt: unique('flaky'),
      });
      await sleep(300);
    }
    // Then a hard failure. The simulator fails one model at a time: alternate, so both accumulate failures.
    let open = false;
    for (let attempt = 0; attempt < 30 && !open; attempt++) {
      for (const model of failing) {
        await setSimulatorMode(options, { fail: '500', model, rate: 1 });
        const answer = await chat(options, tally, { key: options.proKey, model, prompt: unique('failing') });
        if (model === options.failingModel && answer.status === 503) open = true;
      }
    }
    log(
      open
        ? `breaker for ${options.failingModel} is open`
        : `breaker for ${options.failingModel} did not open`,
    );
    // A few fast failures while open.
    for (let i = 0; i < 3; i++) {
      await chat(options, tally, {
        key: options.proKey,
        model: options.failingModel,
        prompt: unique('open'),
      });
    }
    // The half-open probe meets a provider that still fails: the breaker opens again.
    await setSimulatorMode(options, { fail: '500', model: options.failingModel, rate: 1 });
    await sleep(options.halfOpenAfterSeconds * 1000 + 100);
    await chat(options, tally, { key: options.proKey, model: options.failingModel, prompt: unique('probe') });
  } finally {
    await setSimulatorMode(options, { fail: 'none', model: null });
  }
  // Recovery: after half_open_after the next call is the probe; keep calling until one succeeds.
  await sleep(options.halfOpenAfterSeconds * 1000 + 100);
  const deadline = Date.now() + options.halfOpenAfterSeconds * 3000 + 5_000;
  let closed = false;
  while (!closed && Date.now() < deadline) {
    const answer = await chat(options, tally, {
      key: options.proKey,
      model: options.failingModel,
      prompt: unique('probe'),
    });
    closed = answer.status === 200;
    if (!closed) await sleep(250);
  }
  log(
    closed
      ? `breaker for ${options.failingModel} closed again`
      : `breaker for ${options.failingModel} still open`,
  );
}

/** A 429 from the provider once in a while: retried (Retry-After honoured) and usually answered. */
export async function upstreamThrottling(options: ScenarioOptions, tally: Tally): Promise<void> {
  const model = options.models[0]!;
  await setSimulatorMode(options, { fail: '429', model, rate: 0.5, retryAfter: 0 });
  try {
    for (let i = 0; i < 4; i++) {
      await chat(options, tally, { key: options.proKey, model, prompt: unique('throttled') });
    }
  } finally {
    await setSimulatorMode(options, { fail: 'none', model: null, rate: 1, retryAfter: 1 });
  }
}

/** Everything once, in an order where each step's effect is visible on the dashboards. */
export async function runScenario(options: ScenarioOptions, tally: Tally = newTally()): Promise<Tally> {
  const log = options.log ?? (() => {});
  log('cache traffic');
  await cacheTraffic(options, tally);
  log('coalesced bursts');
  await coalescedBurst(options, tally);
  log('tier burst (429)');
  await tierBurst(options, tally);
  log('queue pressure');
  await queuePressure(options, tally);
  log('upstream throttling (retries)');
  await upstreamThrottling(options, tally);
  log('failure episode (breaker)');
  await failureEpisode(options, tally);
  return tally;
}
