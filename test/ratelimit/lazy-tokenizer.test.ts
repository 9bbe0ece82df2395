import { describe, expect, it } from 'vitest';
import { createCallContext } from '../../src/core/context.ts';
import { jsonResult } from '../../src/core/result.ts';
import { tierRateLimitPolicy, tokenizerLoaded } from '../../src/ratelimit/index.ts';

// The BPE tables cost ~70 MB of RSS: importing the package (or limiting requests only) must not load them.
describe('the tokenizer loads on first need', () => {
  const call = () => Promise.resolve(jsonResult({ choices: [] }));
  const ctx = (tier: string) =>
    createCallContext({
      provider: 'openai',
      model: 'gpt-4o',
      tier,
      request: { model: 'gpt-4o', messages: [{ role: 'user', content: 'How many tokens is this?' }] },
    });

  it('is not loaded by importing the package, nor by request-only limits', async () => {
    expect(tokenizerLoaded()).toBe(false);
    const requestsOnly = tierRateLimitPolicy({
      tiers: { free: { requestsPerMinute: 10 } },
      defaultTier: 'free',
    });
    await requestsOnly.execute(ctx('free'), call);
    expect(tokenizerLoaded()).toBe(false);
  });

  it('is loaded before the first estimate of a policy that limits tokens', async () => {
    const withTokens = tierRateLimitPolicy({
      tiers: { free: { requestsPerMinute: 10, tokensPerMinute: 10_000 } },
      defaultTier: 'free',
    });
    await withTokens.execute(ctx('free'), call);
    expect(tokenizerLoaded()).toBe(true);
  });
});
