/**
 * Usage 2: no server, just a function. Wrappers keep the function's signature (streams stay streams);
 * nesting them composes, and `withAll` puts every policy in the right order in one call.
 */
import OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { withAll, withBreaker, withCache } from '../src/index.ts';

export function createAsk(openai: OpenAI) {
  // The cache outside, the breaker (retries, timeouts) inside: a hit never reaches the breaker.
  const ask = withCache(
    withBreaker(
      (request: ChatCompletionCreateParamsNonStreaming, { signal }) =>
        openai.chat.completions.create(request, { signal }),
      { maxRetries: 2, timeoutMs: 30_000 },
    ),
    { ttl: 600 },
  );

  // The same, plus tier limits, in one call: limits → cache → breaker.
  const askAll = withAll(
    (request: ChatCompletionCreateParamsNonStreaming, { signal }) =>
      openai.chat.completions.create(request, { signal }),
    {
      rateLimit: { tiers: { default: { requestsPerMinute: 60 } } },
      cache: { ttl: 600 },
      breaker: { maxRetries: 2, timeoutMs: 30_000 },
    },
  );
  return { ask, askAll };
}

export async function main(openai: OpenAI): Promise<string | null | undefined> {
  const { askAll } = createAsk(openai);
  const answer = await askAll({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] });
  return answer.choices[0]?.message.content;
}

// maxRetries: 0: the breaker retries; the SDK's own retries would multiply its attempts.
if (import.meta.main) console.log(await main(new OpenAI({ maxRetries: 0 })));
