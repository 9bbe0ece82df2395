/**
 * Usage 1: an existing Hono app adds `app.use(...)` lines and gets tier limits, caching, breakers,
 * retries and timeouts on its AI route, with a request span, a GenAI CLIENT span per upstream attempt
 * and the `alchemist.*` metrics. Run: `OPENAI_API_KEY=... node examples/hono-app.ts`.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import OpenAI from 'openai';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { Stream } from 'openai/streaming';
import { aiCache, aiContext, aiHandler, aiRateLimit } from '../src/hono/index.ts';
import type { CallContext } from '../src/index.ts';
import { createResilience, jsonResult, streamResult } from '../src/index.ts';
import { traceUpstreamCall } from '../src/telemetry/index.ts';

export function createApp(openai: OpenAI): Hono {
  const app = new Hono();

  // Parse and validate the body, map the bearer key to a tenant and tier, open the request span.
  app.use('/v1/*', aiContext({ defaultTier: 'free' }));
  // Per-tier limits: 429 + Retry-After + RateLimit headers at once when a caller is over.
  app.use('/v1/*', aiRateLimit({ tiers: { free: { requestsPerMinute: 60, tokensPerMinute: 100_000 } } }));
  // Tenant-scoped response cache (JSON and streams), RFC 9211 Cache-Status on every answer.
  app.use('/v1/*', aiCache({ ttl: 600 }));

  // The upstream call: one GenAI CLIENT span (and gen_ai.* metrics) per attempt.
  const callOpenAI = (ctx: CallContext) =>
    traceUpstreamCall(ctx, { serverAddress: new URL(openai.baseURL).hostname }, async (attempt) => {
      const params = { ...attempt.request, model: attempt.model } as unknown as ChatCompletionCreateParams;
      const answer = await openai.chat.completions.create(params, { signal: attempt.signal });
      return answer instanceof Stream ? streamResult(answer) : jsonResult(answer);
    });

  // Breakers, retries and timeouts call upstream more than once, so they run around the call itself.
  const resilience = createResilience({ maxRetries: 2, timeoutMs: 30_000, failureThreshold: 5 });
  app.post('/v1/chat/completions', aiHandler(callOpenAI, [resilience]));
  return app;
}

if (import.meta.main) {
  serve({ fetch: createApp(new OpenAI()).fetch, port: 3000 });
}
