import { describe, expect, it } from 'vitest';
import { createBreakerRegistry } from '../../src/breaker/registry.ts';
import { createResilience, resilienceOptionsFromConfig } from '../../src/breaker/resilience.ts';
import { aiBreaker } from '../../src/hono/breaker.ts';
import { parseRetryAfter } from '../../src/wire/http.ts';
import { withBreaker } from '../../src/wrap/breaker.ts';

describe('options', () => {
  it('fail at creation with a message naming the option and the bad value', () => {
    expect(() => createResilience({ maxRetries: -1 })).toThrow(
      "createResilience: 'maxRetries' must be an integer >= 0, got -1",
    );
    expect(() => createResilience({ timeoutMs: 0 })).toThrow(
      "'timeoutMs' must be a positive number of milliseconds, got 0",
    );
    expect(() => createBreakerRegistry({ failureRatio: 1.5 })).toThrow(
      "'failureRatio' must be a ratio in (0, 1], got 1.5",
    );
    expect(() => createBreakerRegistry({ mode: 'ratio' as never })).toThrow(
      "'mode' must be one of 'consecutive', 'sampling', got \"ratio\"",
    );
    expect(() => createResilience({ fallbacks: { 'gpt-4o': 'gpt-4o-mini' as never } })).toThrow(
      "'fallbacks.gpt-4o' must be a list of model names",
    );
    expect(() => createResilience({ bulkhead: { maxConcurrent: 0 } })).toThrow(
      "'bulkhead.maxConcurrent' must be an integer >= 1, got 0",
    );
    expect(() => aiBreaker({ idleTimeoutMs: -5 })).toThrow("aiBreaker: 'idleTimeoutMs'");
  });

  it('refuse breaker settings next to a shared registry (they would be silently ignored)', () => {
    const breakers = createBreakerRegistry();
    expect(() => createResilience({ breakers, failureThreshold: 3 })).toThrow(
      "'failureThreshold' cannot be combined",
    );
    const resilience = createResilience({ breakers });
    expect(() => withBreaker(async () => ({}), { resilience, maxRetries: 1 })).toThrow(
      "'maxRetries' cannot be combined",
    );
  });

  it('map the [breaker] config table (seconds) to options (ms)', () => {
    expect(
      resilienceOptionsFromConfig({ failure_threshold: 3, half_open_after: 15, timeout: 30, max_retries: 1 }),
    ).toEqual({
      failureThreshold: 3,
      halfOpenAfterMs: 15_000,
      timeoutMs: 30_000,
      maxRetries: 1,
    });
    expect(resilienceOptionsFromConfig({})).toEqual({});
    expect(() => resilienceOptionsFromConfig({ half_open_after: -1 })).toThrow(
      "[breaker]: 'half_open_after' must be a positive number of seconds, got -1",
    );
    expect(() => resilienceOptionsFromConfig({ max_retries: 1.5 })).toThrow(
      "'max_retries' must be an integer >= 0, got 1.5",
    );
  });

  it('parse Retry-After as delay-seconds or an HTTP-date', () => {
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(
      parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')),
    ).toBe(30_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});
