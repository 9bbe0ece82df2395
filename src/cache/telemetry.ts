import type { Attributes, MeterProvider } from '@opentelemetry/api';
import type { CallContext } from '../core/context.ts';
import type { TokenUsage } from '../core/result.ts';
import { getInstruments } from '../telemetry/instruments.ts';
import { modelLabel, providerLabel, tierLabel } from '../telemetry/labels.ts';
import { costOf } from '../telemetry/prices.ts';
import {
  ATTR_CACHE_LAYER,
  ATTR_CACHE_RESULT,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_TIER,
} from '../telemetry/semconv.ts';
import { setSpanAttributes } from '../telemetry/spans.ts';
import type { WireFormat } from '../wire/types.ts';
import type { CacheEntry, CacheLayer, CacheResult } from './types.ts';

/** Span-only attributes (never on metrics: a key is unbounded). */
export const ATTR_CACHE_KEY = 'alchemist.cache.key';
export const ATTR_CACHE_LOOKUP_MS = 'alchemist.cache.lookup_ms';
export const ATTR_CACHE_TTL = 'alchemist.cache.ttl';
export const ATTR_CACHE_STATUS = 'alchemist.cache.status';

/** Token usage of a stored answer, as its API reports it (a body's, or what its stream said). */
export function entryUsage(entry: CacheEntry, wire: WireFormat): TokenUsage | undefined {
  if (entry.kind === 'json') return wire.usage(entry.body);
  const reader = wire.streamReader();
  for (const chunk of entry.chunks ?? []) reader.read(chunk);
  return reader.usage;
}

export interface Outcome {
  readonly result: CacheResult;
  readonly layer?: CacheLayer;
  readonly status: string;
  readonly lookupMs: number;
  readonly keyHash?: string;
  readonly ttlSeconds?: number;
}

/** Put one call's cache decision on the context, the span and `alchemist.cache.requests`. */
export function recordOutcome(ctx: CallContext, outcome: Outcome, meterProvider?: MeterProvider): void {
  ctx.decisions.cacheResult = outcome.result;
  ctx.decisions.cacheStatus = outcome.status;
  ctx.decisions.serverTiming.push({
    name: 'cache',
    durationMs: outcome.lookupMs,
    description: outcome.result,
  });
  if (ctx.span.isRecording()) {
    const attributes: Attributes = {
      [ATTR_CACHE_RESULT]: outcome.result,
      [ATTR_CACHE_STATUS]: outcome.status,
      [ATTR_CACHE_LOOKUP_MS]: outcome.lookupMs,
    };
    if (outcome.layer) attributes[ATTR_CACHE_LAYER] = outcome.layer;
    if (outcome.keyHash) attributes[ATTR_CACHE_KEY] = outcome.keyHash;
    if (outcome.ttlSeconds !== undefined) attributes[ATTR_CACHE_TTL] = outcome.ttlSeconds;
    setSpanAttributes(ctx.span, attributes);
  }
  try {
    const attributes: Attributes = { [ATTR_CACHE_RESULT]: outcome.result };
    if (outcome.layer) attributes[ATTR_CACHE_LAYER] = outcome.layer;
    getInstruments(meterProvider).cacheRequests.add(1, attributes);
  } catch {
    // Telemetry never breaks the call.
  }
}

/** Tokens and dollars a hit (or a stale answer) saved: what the stored answer cost upstream. */
export function recordSavings(ctx: CallContext, entry: CacheEntry, meterProvider?: MeterProvider): void {
  const usage = entryUsage(entry, ctx.wire);
  if (!usage) return;
  try {
    const instruments = getInstruments(meterProvider);
    const model = modelLabel.get(ctx.model);
    const provider = providerLabel.get(ctx.genAiProvider);
    instruments.cacheTokensSaved.add(usage.inputTokens + usage.outputTokens, {
      [ATTR_GEN_AI_REQUEST_MODEL]: model,
      [ATTR_GEN_AI_PROVIDER_NAME]: provider,
    });
    const cost = costOf(entry.model, usage);
    if (cost > 0) {
      instruments.cacheCostSaved.add(cost, {
        [ATTR_GEN_AI_REQUEST_MODEL]: model,
        [ATTR_GEN_AI_PROVIDER_NAME]: provider,
        [ATTR_TIER]: tierLabel.get(ctx.tier),
      });
    }
  } catch {
    // Telemetry never breaks the call.
  }
}
