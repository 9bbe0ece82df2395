import { describe, expect, it } from 'vitest';
import { createResilience } from '../../src/breaker/resilience.ts';
import { createCallContext } from '../../src/core/context.ts';
import { UpstreamError } from '../../src/core/errors.ts';
import { readiness } from '../../src/gateway/health.ts';
import type { GatewayPolicies } from '../../src/gateway/policies.ts';
import { manualClock } from '../helpers/clock.ts';

/** Issue 17 item 7: `/readyz` listed a breaker as open after its half-open time had passed. */
describe('/readyz and an open breaker', () => {
  it('lists the breaker as half-open once its half-open time has passed, and no longer degraded', async () => {
    const clock = manualClock();
    const resilience = createResilience({
      clock,
      failureThreshold: 1,
      halfOpenAfterMs: 30_000,
      maxRetries: 0,
    });
    const ctx = createCallContext({ provider: 'openai', model: 'gpt-4o-mini', request: {} });
    await expect(
      resilience.execute(ctx, async () => {
        throw new UpstreamError('boom', 500);
      }),
    ).rejects.toThrow();
    const policies = {
      resilience,
      redis: undefined,
      tierLimit: { state: () => ({ mode: 'local', degraded: false }) },
      modelLimit: { limiterState: () => ({ mode: 'local', degraded: false }) },
    } as unknown as GatewayPolicies;
    const sources = { phase: () => 'ready' as const, policies, simulatorUrl: undefined, cacheEnabled: true };

    const opened = readiness(sources).body;
    expect(opened.status).toBe('degraded');
    expect(opened.breakers).toEqual({ total: 2, open: ['openai', 'openai/gpt-4o-mini'], half_open: [] });

    clock.advance(29_999);
    expect(readiness(sources).body.breakers.open).toEqual(['openai', 'openai/gpt-4o-mini']);
    clock.advance(1);
    const later = readiness(sources).body;
    expect(later.breakers).toEqual({ total: 2, open: [], half_open: ['openai', 'openai/gpt-4o-mini'] });
    expect(later.status).toBe('ready');
  });
});
