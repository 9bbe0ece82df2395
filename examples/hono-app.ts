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
import { aiCache, aiContext, aiErrorHandler, aiHandler, aiRateLimit } from '../src/hono/index.ts';
import type { CallContext } from '../src/index.ts';
import { createResilience, jsonResult, streamResult } from '../src/index.ts';
import { traceUpstreamCall } from '../src/telemetry/index.ts';

// OPENAI_API_KEY (and OPENAI_BASE_URL, if set) from the environment. maxRetries: 0 because the
// resilience policy below retries: the SDK's own 2 retries inside each of its 3 attempts make 9 calls.
const openai = new OpenAI({ maxRetries: 0 });

const app = new Hono();
// Errors as OpenAI-style JSON with their status (an upstream 400 stays a 400, 429/503 keep Retry-After)
// instead of Hono's plain-text 500.
app.onError(aiErrorHandler({ onUnexpected: (error) => console.error(error) }));

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

serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000) }, (info) =>
  console.log(`listening on http://127.0.0.1:${info.port}`),
);
