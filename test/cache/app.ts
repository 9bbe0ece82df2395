import { Hono } from 'hono';
import type { CachePolicy } from '../../src/cache/policy.ts';
import type { CallContext } from '../../src/core/context.ts';
import type { AiResult } from '../../src/core/result.ts';
import { jsonResult, streamResult } from '../../src/core/result.ts';
import { aiCache } from '../../src/hono/cache.ts';
import { aiContext } from '../../src/hono/context.ts';
import { aiHandler } from '../../src/hono/handler.ts';

export type Upstream = (ctx: CallContext, n: number) => Promise<AiResult>;

/** An OpenAI-style answer that names the call that produced it. */
export function answer(ctx: CallContext, n: number) {
  return {
    id: `chatcmpl-${n}`,
    object: 'chat.completion',
    model: ctx.model,
    choices: [{ index: 0, message: { role: 'assistant', content: `answer ${n}` }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 10, completion_tokens: 20, total_tokens: 30 },
  };
}

/** Chunks of a streamed answer, usage in the last one. */
export function chunksOf(ctx: CallContext, n: number) {
  return [
    { id: `s-${n}`, model: ctx.model, choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] },
    { id: `s-${n}`, model: ctx.model, choices: [{ index: 0, delta: { content: `part ${n}a` } }] },
    {
      id: `s-${n}`,
      model: ctx.model,
      choices: [{ index: 0, delta: { content: `part ${n}b` }, finish_reason: 'stop' }],
    },
    { id: `s-${n}`, model: ctx.model, choices: [], usage: { prompt_tokens: 5, completion_tokens: 7 } },
  ];
}

export const defaultUpstream: Upstream = async (ctx, n) =>
  ctx.stream
    ? streamResult(
        (async function* () {
          yield* chunksOf(ctx, n);
        })(),
      )
    : jsonResult(answer(ctx, n));

/** A Hono app: aiContext → aiCache(policy) → a terminal handler calling `upstream` (counted). */
export function cacheApp(policy: CachePolicy, upstream: Upstream = defaultUpstream) {
  const app = new Hono();
  const calls = { count: 0 };
  app.use('/v1/*', aiContext());
  app.use('/v1/*', aiCache(policy));
  app.post(
    '/v1/chat/completions',
    aiHandler((ctx) => upstream(ctx, ++calls.count)),
  );
  const post = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    app.request('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-tenant-a', ...headers },
      body: JSON.stringify(body),
    });
  return { app, calls, post };
}

export const chat = (content: string, extra: Record<string, unknown> = {}) => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content }],
  ...extra,
});

export { manualClock } from '../helpers/clock.ts';
