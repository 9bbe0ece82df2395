/**
 * Span attribute names for rate-limit decisions (no OTel convention exists for limiters yet:
 * semantic-conventions#2355). The caller's id is already `alchemist.tenant` on the request span and
 * is never a metric attribute.
 */
export const ATTR_TIER_RESULT = 'alchemist.ratelimit.tier.result';
export const ATTR_TIER_SCOPE = 'alchemist.ratelimit.tier.scope';
export const ATTR_TIER_NAME = 'alchemist.ratelimit.tier.name';
export const ATTR_TIER_MODE = 'alchemist.ratelimit.mode';
export const ATTR_TIER_REQUESTS_REMAINING = 'alchemist.ratelimit.tier.requests.remaining';
export const ATTR_TIER_TOKENS_REMAINING = 'alchemist.ratelimit.tier.tokens.remaining';
export const ATTR_TIER_TOKENS_RESERVED = 'alchemist.ratelimit.tier.tokens.reserved';
export const ATTR_TIER_TOKENS_SETTLED = 'alchemist.ratelimit.tier.tokens.settled';
export const ATTR_TIER_IN_FLIGHT = 'alchemist.ratelimit.tier.in_flight';

export const ATTR_MODEL_RESULT = 'alchemist.ratelimit.model.result';
export const ATTR_MODEL_QUEUE_MS = 'alchemist.ratelimit.model.queue_ms';
export const ATTR_MODEL_REQUESTS_REMAINING = 'alchemist.ratelimit.model.requests.remaining';
export const ATTR_MODEL_TOKENS_REMAINING = 'alchemist.ratelimit.model.tokens.remaining';
/** Where the model limits decided: `local`, `redis` (all instances), `local-fallback` (Redis down: this instance's share). */
export const ATTR_MODEL_MODE = 'alchemist.ratelimit.model.mode';
export const ATTR_MODEL_PAUSED_MS = 'alchemist.ratelimit.model.paused_ms';

/** Span event when upstream feedback pauses a model's queue. */
export const EVENT_MODEL_PAUSED = 'alchemist.ratelimit.model.paused';
