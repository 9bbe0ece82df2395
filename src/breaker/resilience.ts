import type { Clock } from '../core/clock.ts';
import { sleep as defaultSleep, systemClock } from '../core/clock.ts';
import type { Next, Policy } from '../core/compose.ts';
import { compose } from '../core/compose.ts';
import type { CallContext } from '../core/context.ts';
import {
  CircuitOpenError,
  isCircuitOpenError,
  isOverloadedError,
  isRateLimitedError,
  UpstreamTimeoutError,
} from '../core/errors.ts';
import type { AiResult } from '../core/result.ts';
import { closeQuietly, startTimer } from './abort.ts';
import type { AttemptSettings } from './attempt.ts';
import { runAttempt } from './attempt.ts';
import { fullJitterDelay } from './backoff.ts';
import type { BulkheadOptions, BulkheadSnapshot } from './bulkhead.ts';
import { createBulkheads } from './bulkhead.ts';
import type { BreakerSnapshot } from './circuit.ts';
import type { FailureReason } from './classify.ts';
import { failureReasonOf, resultFailureReasonOf, retryAfterMsOf } from './classify.ts';
import type { BreakerRegistry, BreakerRegistryOptions } from './registry.ts';
import { createBreakerRegistry } from './registry.ts';
import { recordFallbackAnswer, recordFallbackAttempt, recordRetry } from './telemetry.ts';
import { func, integerAtLeast, nonNegativeMs, positiveMs, positiveSeconds } from './validate.ts';

/** Options of `createResilience()`. Breaker fields are used only when no shared `breakers` is given. */
export interface ResilienceOptions extends BreakerRegistryOptions {
  /** A shared breaker registry (from `createBreakerRegistry()`). @default a new one from the breaker fields */
  breakers?: BreakerRegistry;
  /** Retries after the first attempt, per candidate model (0 disables retries). @default 2 */
  maxRetries?: number;
  /** Backoff base: the first retry waits up to this long, ms. @default 500 */
  retryBaseDelayMs?: number;
  /** Backoff cap, ms. @default 8000 */
  retryMaxDelayMs?: number;
  /**
   * The longest provider `Retry-After` we wait for; a longer one ends the retries. The wait is never
   * shorter than Retry-After, plus a full-jitter backoff draw so that callers told the same Retry-After
   * do not all come back at once. @default 30000
   */
  maxRetryAfterMs?: number;
  /** Budget for the whole call (attempts, backoff and fallbacks until a result is returned), ms. @default 120000 */
  deadlineMs?: number;
  /** One attempt's total timeout (until the JSON reply, or a stream's first chunk), ms. @default 60000 */
  timeoutMs?: number;
  /** Streams: time from the request to the first chunk, ms. @default 30000 */
  firstChunkTimeoutMs?: number;
  /** Streams: the longest silence between two chunks, ms. @default 30000 */
  idleTimeoutMs?: number;
  /** Per-provider concurrency cap with a bounded queue (cockatiel bulkhead). @default none */
  bulkhead?: BulkheadOptions;
  /** Ordered fallback models per model, tried when a model's breaker is open or it keeps failing. @default {} */
  fallbacks?:
    | Readonly<Record<string, readonly string[]>>
    | ((model: string) => readonly string[] | undefined);
  /** Provider of a fallback model. @default the original call's provider */
  resolveProvider?: (model: string) => string;
  /** The well-known gen_ai.provider.name of a provider (see `aiContext`). @default the name itself */
  genAiProvider?: (provider: string) => string;
  /** Policies run for every attempt inside the breaker, around the timed call (e.g. an outbound limiter). @default [] */
  perAttempt?: readonly Policy<AiResult>[];
  /** Waits between retries; rejects with the signal's reason on abort. @default core `sleep` (setTimeout) */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Random source in [0, 1) for the backoff jitter (also spreads waits after a Retry-After). @default Math.random */
  random?: () => number;
}

/** Everything the resilience policy knows, as plain data, for `/admin/stats` and the CLI. */
export interface ResilienceState {
  readonly breakers: BreakerSnapshot[];
  readonly bulkheads: BulkheadSnapshot[];
}

/** The fault-tolerance policy, with access to its breakers and its state. */
export interface Resilience extends Policy<AiResult> {
  readonly breakers: BreakerRegistry;
  state(): ResilienceState;
}

interface Failed {
  readonly ok: false;
  readonly error?: unknown;
  /** A returned result that is a failure (5xx, 429). */
  readonly result?: AiResult;
  /** Why, when the failure is the provider's. */
  readonly reason?: FailureReason;
}
type Outcome = { readonly ok: true; readonly result: AiResult } | Failed;

const OWNER = 'createResilience';
const REGISTRY_FIELDS = [
  'mode',
  'failureThreshold',
  'failureRatio',
  'samplingWindowMs',
  'minimumCalls',
  'halfOpenAfterMs',
  'providerMinModels',
  'models',
  'tripOn429',
  'maxBreakers',
] as const satisfies readonly (keyof BreakerRegistryOptions)[];

/**
 * Circuit breakers, retries, timeouts, a bulkhead and fallbacks around an upstream call, as one
 * policy. For each candidate model (the requested one, then its fallbacks in order) it runs
 * `retry( bulkhead( breaker( ...perAttempt, timeout( next ))))`: the provider and provider/model
 * breakers see every attempt, retries stop as soon as a breaker opens, and an open breaker with no
 * fallback left ends in `CircuitOpenError` (503, `Retry-After` = seconds until half-open).
 *
 * It calls `next` once per attempt, so it belongs where the upstream call is made: inside
 * `aiHandler(call, [resilience])` (Hono's `next()` runs only once) or `wrapCall`/`withBreaker`.
 *
 * @param [options.maxRetries=2] retries per candidate model
 * @param [options.failureThreshold=5] consecutive failures that open a breaker
 * @param [options.halfOpenAfterMs=30000] wait before a half-open probe
 * @param [options.timeoutMs=60000] one attempt's timeout
 * @param [options.fallbacks={}] ordered fallback models per model
 * @example
 * const resilience = createResilience({ fallbacks: { 'gpt-4o': ['gpt-4o-mini'] }, bulkhead: { maxConcurrent: 50, maxQueue: 100 } });
 * app.post('/v1/chat/completions', aiHandler(callProvider, [resilience]));
 * app.get('/admin/breakers', (c) => c.json(resilience.state()));
 */
export function createResilience(options: ResilienceOptions = {}): Resilience {
  if (options.breakers) {
    const clash = REGISTRY_FIELDS.find((field) => options[field] !== undefined);
    if (clash) {
      throw new TypeError(
        `${OWNER}: '${clash}' cannot be combined with a shared 'breakers' registry; pass it to createBreakerRegistry()`,
      );
    }
  }
  const clock = options.clock ?? systemClock;
  const breakers = options.breakers ?? createBreakerRegistry(options);
  const maxRetries = integerAtLeast(OWNER, 'maxRetries', options.maxRetries ?? 2, 0);
  const baseDelayMs = nonNegativeMs(OWNER, 'retryBaseDelayMs', options.retryBaseDelayMs ?? 500);
  const maxDelayMs = nonNegativeMs(OWNER, 'retryMaxDelayMs', options.retryMaxDelayMs ?? 8_000);
  const maxRetryAfterMs = nonNegativeMs(OWNER, 'maxRetryAfterMs', options.maxRetryAfterMs ?? 30_000);
  const deadlineMs = positiveMs(OWNER, 'deadlineMs', options.deadlineMs ?? 120_000);
  const timeouts = {
    totalMs: positiveMs(OWNER, 'timeoutMs', options.timeoutMs ?? 60_000),
    firstChunkMs: positiveMs(OWNER, 'firstChunkTimeoutMs', options.firstChunkTimeoutMs ?? 30_000),
    idleMs: positiveMs(OWNER, 'idleTimeoutMs', options.idleTimeoutMs ?? 30_000),
  };
  const sleep = options.sleep
    ? func<ResilienceOptions['sleep'] & {}>(OWNER, 'sleep', options.sleep)
    : defaultSleep;
  const random = options.random ? func<() => number>(OWNER, 'random', options.random) : Math.random;
  const resolveProvider = options.resolveProvider
    ? func<(model: string) => string>(OWNER, 'resolveProvider', options.resolveProvider)
    : undefined;
  const genAiProvider = options.genAiProvider
    ? func<(provider: string) => string>(OWNER, 'genAiProvider', options.genAiProvider)
    : (provider: string) => provider;
  const fallbacksOf = fallbackLookup(options.fallbacks);
  const candidateFor = (ctx: CallContext, model: string): CallContext => {
    const provider = resolveProvider?.(model) ?? ctx.provider;
    if (provider === ctx.provider) return { ...ctx, model };
    return { ...ctx, model, provider, genAiProvider: genAiProvider(provider) };
  };
  const { meterProvider } = options;
  const bulkheads = options.bulkhead ? createBulkheads(OWNER, options.bulkhead) : undefined;
  const settings: AttemptSettings = {
    breakers,
    bulkheads,
    perAttempt: compose(...(options.perAttempt ?? [])),
    timeouts,
    clock,
  };

  /** When to retry, or undefined to stop: backoff with full jitter, after the provider's Retry-After if any. */
  const retryDelay = (retry: number, outcome: Failed) => {
    const jitterMs = fullJitterDelay(retry, baseDelayMs, maxDelayMs, random);
    const retryAfterMs = retryAfterMsOf(outcome.result ?? outcome.error);
    if (retryAfterMs === undefined) return { delayMs: jitterMs };
    // Retrying sooner than the provider asked would only be refused again: past the cap, give up
    // (a fallback may answer, or the client gets the provider's Retry-After). Never sooner, and
    // jittered after it: every caller told "Retry-After: 1" coming back in the same millisecond is
    // the next burst of 429s.
    return retryAfterMs > maxRetryAfterMs ? undefined : { delayMs: retryAfterMs + jitterMs, retryAfterMs };
  };

  const withRetries = async (
    ctx: CallContext,
    next: Next<AiResult>,
    deadline: Deadline,
  ): Promise<Outcome> => {
    for (let attempt = 1; ; attempt++) {
      let outcome: Outcome;
      try {
        const result = await runAttempt(settings, ctx, next, deadline.signal, deadline.remaining());
        const reason = resultFailureReasonOf(result);
        if (!reason) return { ok: true, result };
        outcome = { ok: false, result, reason };
      } catch (error) {
        const reason = failureReasonOf(error);
        outcome = reason ? { ok: false, error, reason } : { ok: false, error };
      }
      // Never retry for a caller who left, a failure that is not the provider's, or past the budget.
      if (ctx.signal.aborted || outcome.reason === undefined || attempt > maxRetries) return outcome;
      // A breaker that is no longer closed would refuse the retry: stop now and say so (a fallback
      // may answer; otherwise the client gets 503 with the time until half-open).
      const refusing = breakers.breakersFor(ctx.provider, ctx.model).find((b) => b.state !== 'closed');
      if (refusing) return outcome.result ? outcome : circuitOpen(refusing.snapshot(), outcome);
      const delay = retryDelay(attempt, outcome);
      if (!delay || delay.delayMs >= deadline.remaining()) return outcome;
      recordRetry(ctx, { attempt: attempt + 1, reason: outcome.reason, ...delay }, meterProvider);
      discard(outcome.result);
      await sleep(delay.delayMs, ctx.signal);
    }
  };

  return {
    name: 'resilience',
    breakers,
    state: () => ({ breakers: breakers.snapshot(), bulkheads: bulkheads?.snapshot() ?? [] }),
    async execute(ctx, next) {
      const deadline = startDeadline(deadlineMs, ctx.signal, clock);
      try {
        const candidates = [...new Set([ctx.model, ...(fallbacksOf(ctx.model) ?? [])])];
        let primary: Failed | undefined;
        let previous: Failed | undefined;
        for (const [index, model] of candidates.entries()) {
          if (previous && !canFallBack(previous)) break;
          if (ctx.signal.aborted || deadline.remaining() <= 0) break;
          const candidate = index === 0 ? ctx : candidateFor(ctx, model);
          if (index > 0) recordFallbackAttempt(ctx.span, ctx.model, model, fallbackReason(previous));
          const outcome = await withRetries(candidate, next, deadline);
          if (outcome.ok) {
            if (index > 0) {
              ctx.decisions.fallbackModel = model;
              recordFallbackAnswer(ctx.model, model, meterProvider);
              discard(primary?.result);
            }
            return outcome.result;
          }
          if (index === 0) primary = outcome;
          else discard(outcome.result);
          previous = outcome;
        }
        // Every candidate failed: the client hears about the model it asked for.
        if (primary?.result) return primary.result;
        throw primary?.error;
      } finally {
        deadline.clear();
      }
    },
  };
}

function fallbackLookup(
  fallbacks: ResilienceOptions['fallbacks'],
): (model: string) => readonly string[] | undefined {
  if (fallbacks === undefined) return () => undefined;
  if (typeof fallbacks === 'function') return fallbacks;
  if (typeof fallbacks !== 'object' || fallbacks === null) {
    throw new TypeError(`${OWNER}: 'fallbacks' must be an object or a function, got ${String(fallbacks)}`);
  }
  for (const [model, list] of Object.entries(fallbacks)) {
    if (!Array.isArray(list) || list.some((entry) => typeof entry !== 'string' || entry === '')) {
      throw new TypeError(
        `${OWNER}: 'fallbacks.${model}' must be a list of model names, got ${JSON.stringify(list)}`,
      );
    }
  }
  return (model) => (Object.hasOwn(fallbacks, model) ? fallbacks[model] : undefined);
}

/**
 * A fallback helps when the provider or model is down, overloaded or out of capacity (an outbound
 * limiter inside this policy saying the model is rate limited); not on a 4xx.
 */
function canFallBack(outcome: Failed): boolean {
  return (
    outcome.reason !== undefined ||
    isCircuitOpenError(outcome.error) ||
    isOverloadedError(outcome.error) ||
    isRateLimitedError(outcome.error)
  );
}

function fallbackReason(outcome: Failed | undefined): string {
  if (outcome?.reason) return outcome.reason;
  if (isCircuitOpenError(outcome?.error)) return 'circuit_open';
  if (isOverloadedError(outcome?.error)) return 'overloaded';
  if (isRateLimitedError(outcome?.error)) return 'rate_limited';
  return 'unknown';
}

function circuitOpen(snapshot: BreakerSnapshot, outcome: Failed): Failed {
  const error = new CircuitOpenError(snapshot.name, {
    retryAfter: Math.max(1, snapshot.retryAfterSeconds ?? 1),
    cause: outcome.error,
  });
  return { ok: false, error };
}

/** A result we will not return: release a stream's upstream. */
function discard(result: AiResult | undefined): void {
  if (result?.kind === 'stream') closeQuietly(result.chunks[Symbol.asyncIterator]());
}

interface Deadline {
  /** Aborts (with an `UpstreamTimeoutError('total')`) when the caller leaves or the budget is spent. */
  readonly signal: AbortSignal;
  remaining(): number;
  clear(): void;
}

function startDeadline(ms: number, callerSignal: AbortSignal, clock: Clock): Deadline {
  const at = clock.now() + ms;
  const controller = new AbortController();
  const timer = startTimer(ms, () => controller.abort(new UpstreamTimeoutError('total', ms)));
  return {
    signal: AbortSignal.any([callerSignal, controller.signal]),
    remaining: () => Math.max(0, at - clock.now()),
    clear: () => clearTimeout(timer),
  };
}

/** Options read from the `[breaker]` config table (seconds, as in the TOML). */
export interface BreakerConfig {
  failure_threshold?: number;
  half_open_after?: number;
  timeout?: number;
  max_retries?: number;
  provider_min_models?: number;
}

/**
 * Map the `[breaker]` config table to `createResilience()` options (seconds become milliseconds).
 * Bad values fail with a message naming the key.
 *
 * @example
 * const resilience = createResilience({ ...resilienceOptionsFromConfig(config.breaker), fallbacks });
 */
export function resilienceOptionsFromConfig(config: BreakerConfig = {}): ResilienceOptions {
  const owner = '[breaker]';
  const options: ResilienceOptions = {};
  const seconds = (key: string, value: number) => positiveSeconds(owner, key, value) * 1000;
  if (config.failure_threshold !== undefined) {
    options.failureThreshold = integerAtLeast(owner, 'failure_threshold', config.failure_threshold, 1);
  }
  if (config.half_open_after !== undefined) {
    options.halfOpenAfterMs = seconds('half_open_after', config.half_open_after);
  }
  if (config.timeout !== undefined) options.timeoutMs = seconds('timeout', config.timeout);
  if (config.max_retries !== undefined) {
    options.maxRetries = integerAtLeast(owner, 'max_retries', config.max_retries, 0);
  }
  if (config.provider_min_models !== undefined) {
    options.providerMinModels = integerAtLeast(owner, 'provider_min_models', config.provider_min_models, 1);
  }
  return options;
}
