import { randomUUID } from 'node:crypto';
import type { Attributes, MeterProvider } from '@opentelemetry/api';
import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
import type { Policy } from '../core/compose.ts';
import type { CallContext } from '../core/context.ts';
import { isOverloadedError, isUpstreamError, RateLimitedError } from '../core/errors.ts';
import type { AiResult } from '../core/result.ts';
import type { RedisConnection } from '../redis/connection.ts';
import { readAtCollection } from '../telemetry/collected.ts';
import { getInstruments, INSTRUMENT_SPECS } from '../telemetry/instruments.ts';
import { modelLabel, tierLabel } from '../telemetry/labels.ts';
import {
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_RATELIMIT_RESULT,
  ATTR_RATELIMIT_SCOPE,
  ATTR_TIER,
} from '../telemetry/semconv.ts';
import { addSpanEvent, setSpanAttributes } from '../telemetry/spans.ts';
import {
  ATTR_MODEL_MODE,
  ATTR_MODEL_PAUSED_MS,
  ATTR_MODEL_QUEUE_MS,
  ATTR_MODEL_REQUESTS_REMAINING,
  ATTR_MODEL_RESULT,
  ATTR_MODEL_TOKENS_REMAINING,
  EVENT_MODEL_PAUSED,
} from './attributes.ts';
import { pauseFromError, pauseFromResult } from './feedback.ts';
import type { RateLimiterState } from './limiter.ts';
import type { GateLimits } from './model-gate.ts';
import { WINDOW_MS } from './model-gate.ts';
import { runAndSettle } from './settle.ts';
import type { SharedPermit } from './shared-model-gate.ts';
import { ModeTracker, SharedModelGate } from './shared-model-gate.ts';
import { actualTokens, estimateTokens, loadTokenizer, tokenizerLoaded } from './tokens.ts';
import {
  isRecord,
  nonNegativeNumber,
  optionalPositive,
  positiveInteger,
  resolveInstances,
  resolveMultiplier,
  scaled,
} from './validate.ts';

/** A provider's limits for one model (`[ai_models.<model>]`). Omit a field for no limit. */
export interface ModelLimits {
  /** Calls per minute (`rate_limit`). @default unlimited */
  requestsPerMinute?: number;
  /** Prompt + completion tokens per minute. @default unlimited */
  tokensPerMinute?: number;
  /** Calls in flight at once. @default unlimited */
  maxConcurrent?: number;
}

/** Options of `modelRateLimitPolicy()`. */
export interface ModelRateLimitOptions {
  /** Limits by model name (`ctx.model` of each attempt). Models not listed pass through. Required. */
  models: Record<string, ModelLimits>;
  /** Scales every limit. @default Number(process.env.RATE_LIMIT_MULTIPLIER ?? 1) */
  multiplier?: number;
  /**
   * Shared Redis: each limit holds for the sum of every process using it (one atomic decision per
   * call; the queue stays in the process). While Redis is unavailable each process enforces its share
   * (`limit / instances`) and `limiterState()` says so. @default none (per-process limits)
   */
  redis?: RedisConnection;
  /** Processes calling the same provider account: each enforces `limit / instances` (with `redis`, only while it is down). @default 1 */
  instances?: number;
  /** Prefix of the Redis keys (`<prefix>model:{<model>}:...`). @default 'alchemist:rl:' */
  keyPrefix?: string;
  /** A Redis concurrency lease expires after this long if its process dies holding it. @default 300000 */
  leaseTtlMs?: number;
  /** Longest a call may wait in a model's queue before a 503. @default 10000 */
  maxQueueWaitMs?: number;
  /** Calls waiting per model beyond which new ones get a 503 at once. @default 1000 */
  maxQueueLength?: number;
  /** Output tokens assumed when a request sets no `max_tokens`. @default 1024 */
  defaultOutputTokens?: number;
  /** Pause after a provider 429 or exhausted headers that give no reset time. @default 1000 */
  defaultPauseMs?: number;
  /**
   * Provider 429s in a row for a model after which calls arriving while it is paused are answered at
   * once with a 429 (`rate_limited_model`, Retry-After = the rest of the pause) instead of queueing
   * behind a provider that keeps refusing. An admitted answer resets the count. @default 3
   */
  rejectAfter429s?: number;
  /** Time source (windows, pauses; timers follow it). @default Date.now */
  clock?: Clock;
  /** Where decisions are recorded. @default the global MeterProvider */
  meterProvider?: MeterProvider;
}

/** State of one model's gate, for the admin API and tests. */
export interface ModelGateState {
  readonly queued: number;
  readonly inFlight: number;
  readonly remainingRequests: number | undefined;
  readonly remainingTokens: number | undefined;
  /** Epoch ms until which upstream feedback paused the model (0 when not paused). */
  readonly pausedUntil: number;
}

/** The outbound per-model limiter: a policy plus its gates' state. */
export interface ModelRateLimitPolicy extends Policy<AiResult> {
  state(): Record<string, ModelGateState>;
  /** `{ mode: 'local' | 'redis' | 'local-fallback', degraded }`: where the limits are decided now. */
  limiterState(): RateLimiterState;
}

/** A model's limits for all instances together and for one instance alone. */
interface ResolvedModel {
  readonly global: GateLimits;
  readonly share: GateLimits;
}

function checkModels(models: unknown, multiplier: number, instances: number) {
  if (!isRecord(models)) {
    throw new TypeError(`ModelRateLimitOptions.models must be an object, got ${JSON.stringify(models)}`);
  }
  const limits = new Map<string, ResolvedModel>();
  for (const [model, raw] of Object.entries(models)) {
    const path = `ModelRateLimitOptions.models.${model}`;
    if (!isRecord(raw)) throw new TypeError(`${path} must be an object, got ${JSON.stringify(raw)}`);
    const rpm = optionalPositive(`${path}.requestsPerMinute`, raw.requestsPerMinute);
    const tpm = optionalPositive(`${path}.tokensPerMinute`, raw.tokensPerMinute);
    const concurrent =
      raw.maxConcurrent === undefined
        ? undefined
        : positiveInteger(`${path}.maxConcurrent`, raw.maxConcurrent);
    const part = (value: number | undefined, divisor: number) =>
      value === undefined ? undefined : Math.max(1, Math.floor(scaled(value, multiplier) / divisor));
    const limitsFor = (divisor: number): GateLimits => ({
      requestsPerMinute: part(rpm, divisor),
      tokensPerMinute: part(tpm, divisor),
      maxConcurrent: part(concurrent, divisor),
    });
    limits.set(model, { global: limitsFor(1), share: limitsFor(instances) });
  }
  return limits;
}

/**
 * Shape outbound calls so a provider's per-model limits are never exceeded: exact sliding windows
 * of requests and tokens per minute and a concurrency cap, with a FIFO queue in front. A call waits
 * up to `maxQueueWaitMs` (rejected at once when the wait is predictably longer, or the queue holds
 * `maxQueueLength`), then fails with `OverloadedError` (503 + Retry-After) without reaching the
 * provider. A provider 429 (`UpstreamError`, honouring its Retry-After) or exhausted
 * `x-ratelimit-remaining-*` / `anthropic-ratelimit-*` headers pause that model's queue until the reset.
 * With `redis`, the limits and pauses hold for all processes together (see `SharedModelGate`); while
 * Redis is unavailable each process enforces `limit / instances` and `limiterState()` says so.
 * Run it once per upstream attempt (inside retries), as close to the call as possible.
 *
 * @param options.models limits per model
 * @param [options.maxQueueWaitMs=10000] longest wait in the queue
 * @param [options.maxQueueLength=1000] most waiters per model
 * @param [options.redis] shared connection: limits across processes
 * @param [options.instances=1] processes sharing the provider account (per-process share)
 * @example
 * const modelLimits = modelRateLimitPolicy({ models: { 'gpt-4o': { requestsPerMinute: 500, tokensPerMinute: 30_000 } } });
 * app.post('/v1/chat/completions', aiHandler(callProvider, [modelLimits]));
 */
export function modelRateLimitPolicy(options: ModelRateLimitOptions): ModelRateLimitPolicy {
  const multiplier = resolveMultiplier('ModelRateLimitOptions.multiplier', options.multiplier);
  const instances = resolveInstances('ModelRateLimitOptions.instances', options.instances);
  const limits = checkModels(options.models, multiplier, instances);
  const maxWaitMs = nonNegativeNumber(
    'ModelRateLimitOptions.maxQueueWaitMs',
    options.maxQueueWaitMs ?? 10_000,
  );
  const maxQueueLength =
    options.maxQueueLength === 0
      ? 0
      : positiveInteger('ModelRateLimitOptions.maxQueueLength', options.maxQueueLength ?? 1000);
  const defaultOutputTokens = nonNegativeNumber(
    'ModelRateLimitOptions.defaultOutputTokens',
    options.defaultOutputTokens ?? 1024,
  );
  const defaultPauseMs = nonNegativeNumber(
    'ModelRateLimitOptions.defaultPauseMs',
    options.defaultPauseMs ?? 1000,
  );
  const rejectAfter429s = positiveInteger(
    'ModelRateLimitOptions.rejectAfter429s',
    options.rejectAfter429s ?? 3,
  );
  const clock = options.clock ?? systemClock;
  const { meterProvider, redis } = options;
  const keyPrefix = options.keyPrefix ?? 'alchemist:rl:';
  if (typeof keyPrefix !== 'string') {
    throw new TypeError(`ModelRateLimitOptions.keyPrefix must be a string, got ${JSON.stringify(keyPrefix)}`);
  }
  const leaseTtlMs = positiveInteger('ModelRateLimitOptions.leaseTtlMs', options.leaseTtlMs ?? 300_000);
  const tracker = new ModeTracker(redis);
  // Call ids: unique per process and call, cheap (no UUID per request).
  const idPrefix = randomUUID().slice(0, 8);
  const gates = new Map<string, SharedModelGate>();
  for (const [model, limit] of limits) {
    gates.set(
      model,
      new SharedModelGate({
        limits: limit.global,
        share: limit.share,
        clock,
        windowMs: WINDOW_MS,
        redis,
        // The hash tag keeps one model's keys on one Redis Cluster slot (its script needs them together).
        keyBase: `${keyPrefix}model:{${model}}:`,
        leaseTtlMs,
        tracker,
        instances,
        idPrefix,
      }),
    );
  }

  // Remaining capacity is read when metrics are collected, so the gauge refills with the window even
  // when no call comes. The reading holds the gates weakly: a dropped policy stops being reported.
  const gatesOf = new WeakRef(gates);
  readAtCollection(INSTRUMENT_SPECS.rateLimitRemaining.name, meterProvider, (observe) => {
    const live = gatesOf.deref();
    if (!live) return false;
    for (const [model, gate] of live) {
      const remaining = gate.remainingRequests();
      if (remaining === undefined) continue;
      observe(remaining, {
        [ATTR_RATELIMIT_SCOPE]: 'model',
        [ATTR_GEN_AI_REQUEST_MODEL]: modelLabel.get(model),
      });
    }
    return true;
  });

  const record = (
    ctx: CallContext,
    gate: SharedModelGate,
    result: 'allowed' | 'queued' | 'rejected',
    waitedMs: number,
  ) => {
    // A gate without limits only holds provider pauses: passing it is not a decision worth a series.
    if (result === 'allowed' && !gate.limited) return;
    try {
      const instruments = getInstruments(meterProvider);
      const model = modelLabel.get(ctx.model);
      instruments.rateLimitRequests.add(1, {
        [ATTR_RATELIMIT_RESULT]: result,
        [ATTR_RATELIMIT_SCOPE]: 'model',
        [ATTR_TIER]: tierLabel.get(ctx.tier),
        [ATTR_GEN_AI_REQUEST_MODEL]: model,
      });
      const attributes = { [ATTR_RATELIMIT_SCOPE]: 'model', [ATTR_GEN_AI_REQUEST_MODEL]: model };
      instruments.rateLimitQueueDuration.record(waitedMs / 1000, attributes);
    } catch {
      // Telemetry never breaks the call.
    }
    if (ctx.span.isRecording()) {
      const attributes: Attributes = {
        [ATTR_MODEL_RESULT]: result,
        [ATTR_MODEL_QUEUE_MS]: waitedMs,
        [ATTR_MODEL_MODE]: gate.mode,
      };
      const requests = gate.remainingRequests();
      const tokens = gate.remainingTokens();
      if (requests !== undefined) attributes[ATTR_MODEL_REQUESTS_REMAINING] = requests;
      if (tokens !== undefined) attributes[ATTR_MODEL_TOKENS_REMAINING] = tokens;
      setSpanAttributes(ctx.span, attributes);
    }
  };

  const pause = (ctx: CallContext, gate: SharedModelGate, ms: number | undefined, reason: string) => {
    if (ms === undefined) return;
    gate.pause(clock.now() + ms);
    addSpanEvent(ctx.span, EVENT_MODEL_PAUSED, {
      [ATTR_MODEL_PAUSED_MS]: ms,
      [ATTR_GEN_AI_REQUEST_MODEL]: ctx.model,
      reason,
    });
  };

  return {
    name: 'modelRateLimit',
    limiterState: () => tracker.state(),
    state() {
      const state: Record<string, ModelGateState> = {};
      for (const [model, gate] of gates) {
        state[model] = {
          queued: gate.queued,
          inFlight: gate.inFlight,
          remainingRequests: gate.remainingRequests(),
          remainingTokens: gate.remainingTokens(),
          pausedUntil: gate.pausedUntil,
        };
      }
      return state;
    },
    async execute(ctx, next) {
      const gate = gates.get(ctx.model);
      if (!gate) return next(ctx);
      const pausedMs = gate.pausedUntil - clock.now();
      if (gate.upstream429s >= rejectAfter429s && pausedMs > 0) {
        // A 429 storm: the provider refused the last calls; queueing more behind it only adds latency.
        record(ctx, gate, 'rejected', 0);
        throw new RateLimitedError(
          `The provider rate limited model '${ctx.model}' (${gate.upstream429s} 429s in a row); retry after its pause`,
          'model',
          { retryAfter: pausedMs / 1000 },
        );
      }
      if (gate.limits.tokensPerMinute !== undefined && !tokenizerLoaded()) await loadTokenizer();
      const estimate =
        gate.limits.tokensPerMinute === undefined
          ? undefined
          : estimateTokens(ctx.request, defaultOutputTokens);
      const startedAt = clock.now();
      let permit: SharedPermit;
      try {
        permit = await gate.acquire(gate.costOf(estimate ? estimate.input + estimate.output : 0), {
          maxWaitMs,
          maxQueueLength,
          signal: ctx.signal,
        });
      } catch (error) {
        if (isOverloadedError(error)) record(ctx, gate, 'rejected', clock.now() - startedAt);
        throw error;
      }
      record(ctx, gate, permit.waitedMs > 0 ? 'queued' : 'allowed', permit.waitedMs);
      return runAndSettle(ctx, next, (outcome) => {
        const actual =
          estimate === undefined
            ? undefined
            : outcome.produced
              ? actualTokens(outcome.usage, estimate, outcome.output)
              : 0;
        gate.release(permit, actual);
        if (outcome.error !== undefined) {
          const pauseMs = pauseFromError(outcome.error, defaultPauseMs);
          if (pauseMs !== undefined) gate.noteUpstream(true);
          else if (isUpstreamError(outcome.error) && outcome.error.upstreamStatus > 0)
            gate.noteUpstream(false);
          pause(ctx, gate, pauseMs, 'upstream_429');
        }
        if (outcome.result) {
          gate.noteUpstream(outcome.result.status === 429);
          pause(ctx, gate, pauseFromResult(outcome.result, clock.now(), defaultPauseMs), 'upstream_headers');
        }
      });
    },
  };
}
