import type { Resilience, ResilienceOptions } from '../breaker/resilience.ts';
import { createResilience } from '../breaker/resilience.ts';
import type { AiRequest, CallOptions, UpstreamCallOptions, WrapOptions } from './wrap.ts';
import { wrapCall } from './wrap.ts';

/** Options of `withBreaker()`: the resilience policy's (or a shared one), plus the wrapper's. */
export interface WithBreakerOptions<Req extends AiRequest = AiRequest>
  extends ResilienceOptions,
    WrapOptions<Req> {
  /** A resilience policy to share (its breakers, bulkhead and fallbacks); the other resilience fields must then be unset. @default a new one from these options */
  resilience?: Resilience;
}

/**
 * Wrap an SDK call with circuit breakers, retries (full-jitter backoff, `Retry-After` aware), timeouts,
 * an optional bulkhead and fallback models. Each run of `fn` is its own GenAI CLIENT span; `fn` must pass
 * `signal` to the SDK so timeouts abort the request, and use `request.model` (a fallback's model).
 * Streams stay streams: a stream that fails after its first chunk is never retried.
 *
 * @param [options.maxRetries=2] retries per model
 * @param [options.fallbacks={}] ordered fallback models per model
 * @example
 * const create = withBreaker(
 *   (request, { signal }) => openai.chat.completions.create(request, { signal }),
 *   { fallbacks: { 'gpt-4o': ['gpt-4o-mini'] }, timeoutMs: 30_000 },
 * );
 * const reply = await create({ model: 'gpt-4o', messages });
 */
export function withBreaker<Req extends AiRequest, Res, Opts extends CallOptions = CallOptions>(
  fn: (request: Req, options: UpstreamCallOptions<Opts>) => Promise<Res>,
  options: WithBreakerOptions<Req> = {},
): ((request: Req, callOptions?: Opts) => Promise<Res>) & { readonly resilience: Resilience } {
  const {
    resilience: shared,
    provider,
    tenant,
    tier,
    operation,
    route,
    serverAddress,
    tracerProvider,
    ...rest
  } = options;
  if (shared) {
    const clash = Object.entries(rest).find(([key, value]) => key !== 'meterProvider' && value !== undefined);
    if (clash) {
      throw new TypeError(
        `withBreaker: '${clash[0]}' cannot be combined with a shared 'resilience'; set it there`,
      );
    }
  }
  const resilience = shared ?? createResilience(rest);
  const wrapped = wrapCall<Req, Res, Opts>(fn, [resilience], {
    ...(provider === undefined ? {} : { provider }),
    ...(tenant === undefined ? {} : { tenant }),
    ...(tier === undefined ? {} : { tier }),
    ...(operation === undefined ? {} : { operation }),
    route: route ?? (fn.name || 'withBreaker'),
    ...(serverAddress === undefined ? {} : { serverAddress }),
    ...(tracerProvider === undefined ? {} : { tracerProvider }),
    ...(options.meterProvider === undefined ? {} : { meterProvider: options.meterProvider }),
  });
  return Object.assign(wrapped, { resilience });
}
