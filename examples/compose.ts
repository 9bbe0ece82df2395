/**
 * Policies around any async function, not only LLM SDK calls: `compose()` runs them outermost first
 * over one call context. (For spans and metrics too, wrap the function with `withAll` instead.)
 */
import { aiCachePolicy, compose, createCallContext, createResilience, jsonResult } from '../src/index.ts';

export function guarded<T>(name: string, fn: (input: string, signal: AbortSignal) => Promise<T>) {
  // Created once: the cache's entries and the breaker's state live as long as `guarded`'s result.
  const policies = compose(aiCachePolicy({ ttl: 300 }), createResilience({ maxRetries: 2 }));

  return async function call(input: string): Promise<T> {
    const ctx = createCallContext({ provider: 'internal', model: name, request: { input } });
    const result = await policies.execute(ctx, async (attempt) =>
      jsonResult(await fn(input, attempt.signal)),
    );
    if (result.kind !== 'json') throw new Error(`${name} answered with a stream`);
    return result.body as T;
  };
}

export const lookup = guarded('geo-lookup', async (city, signal) => {
  const response = await fetch(`https://geo.example.com/v1/lookup?q=${encodeURIComponent(city)}`, { signal });
  return (await response.json()) as { lat: number; lon: number };
});
