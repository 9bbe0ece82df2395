/**
 * GenAI semantic-convention names, v1.41.0, copied here on purpose: the `incubating` entry point of
 * @opentelemetry/semantic-conventions is unstable and must not be a runtime import.
 * https://opentelemetry.io/docs/specs/semconv/gen-ai/
 */
export const SEMCONV_SCHEMA_URL = 'https://opentelemetry.io/schemas/1.41.0';

export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
export const ATTR_GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model';
export const ATTR_GEN_AI_RESPONSE_ID = 'gen_ai.response.id';
export const ATTR_GEN_AI_RESPONSE_FINISH_REASONS = 'gen_ai.response.finish_reasons';
export const ATTR_GEN_AI_REQUEST_MAX_TOKENS = 'gen_ai.request.max_tokens';
export const ATTR_GEN_AI_REQUEST_TEMPERATURE = 'gen_ai.request.temperature';
export const ATTR_GEN_AI_REQUEST_TOP_P = 'gen_ai.request.top_p';
export const ATTR_GEN_AI_REQUEST_STREAM = 'gen_ai.request.stream';
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
export const ATTR_GEN_AI_TOKEN_TYPE = 'gen_ai.token.type';
export const ATTR_GEN_AI_INPUT_MESSAGES = 'gen_ai.input.messages';
export const ATTR_GEN_AI_OUTPUT_MESSAGES = 'gen_ai.output.messages';

export const GEN_AI_TOKEN_TYPE_INPUT = 'input';
export const GEN_AI_TOKEN_TYPE_OUTPUT = 'output';

export const METRIC_GEN_AI_CLIENT_OPERATION_DURATION = 'gen_ai.client.operation.duration';
export const METRIC_GEN_AI_CLIENT_TOKEN_USAGE = 'gen_ai.client.token.usage';
export const METRIC_GEN_AI_CLIENT_TIME_TO_FIRST_CHUNK = 'gen_ai.client.operation.time_to_first_chunk';
export const METRIC_GEN_AI_CLIENT_TIME_PER_OUTPUT_CHUNK = 'gen_ai.client.operation.time_per_output_chunk';

/** Stable general names (also in @opentelemetry/semantic-conventions' stable entry point). */
export const ATTR_ERROR_TYPE = 'error.type';
export const ATTR_SERVER_ADDRESS = 'server.address';
export const ATTR_SERVER_PORT = 'server.port';
export const ATTR_HTTP_ROUTE = 'http.route';
export const ATTR_HTTP_REQUEST_METHOD = 'http.request.method';
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code';
export const ATTR_URL_PATH = 'url.path';
export const ATTR_URL_SCHEME = 'url.scheme';
export const ATTR_USER_AGENT_ORIGINAL = 'user_agent.original';
/** HTTP client semconv: the ordinal of a resent request (absent on the first attempt). */
export const ATTR_HTTP_REQUEST_RESEND_COUNT = 'http.request.resend_count';
/** HTTP server semconv (stable): one recording per request the SERVER span covers. */
export const METRIC_HTTP_SERVER_REQUEST_DURATION = 'http.server.request.duration';
/** The bucket advice of `http.server.request.duration` (semconv http-metrics.md). */
export const HTTP_SERVER_DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
] as const;

/** Bucket advice from the GenAI metrics spec. */
export const GEN_AI_DURATION_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
] as const;
export const GEN_AI_TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
] as const;
export const GEN_AI_TIME_TO_FIRST_CHUNK_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
] as const;

/** Our own attribute names (no convention exists for caches, limiters or breakers yet). */
export const ATTR_CACHE_RESULT = 'alchemist.cache.result';
export const ATTR_CACHE_LAYER = 'alchemist.cache.layer';
/** On a coalesced follower's span link to the leader's request span. */
export const ATTR_CACHE_COALESCED = 'alchemist.cache.coalesced';
export const ATTR_RATELIMIT_RESULT = 'alchemist.ratelimit.result';
export const ATTR_RATELIMIT_SCOPE = 'alchemist.ratelimit.scope';
export const ATTR_TIER = 'alchemist.tier';
/** Budget decision on `alchemist.budget.requests`: `allowed` or `rejected`. */
export const ATTR_BUDGET_RESULT = 'alchemist.budget.result';
/** The configured provider name (`gen_ai.provider.name` holds its well-known type). */
export const ATTR_PROVIDER = 'alchemist.provider';
export const ATTR_TENANT = 'alchemist.tenant';
export const ATTR_OUTCOME = 'alchemist.outcome';
export const ATTR_BREAKER_NAME = 'alchemist.circuit_breaker.name';
export const ATTR_BREAKER_STATE = 'alchemist.circuit_breaker.state';
export const ATTR_RETRY_REASON = 'alchemist.retry.reason';
export const ATTR_STORE = 'alchemist.store';
export const ATTR_FALLBACK_MODEL = 'alchemist.fallback.model';
