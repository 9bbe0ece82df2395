/**
 * `wrapOpenAI()`: the official SDK client, same types, through the policies.
 */
import OpenAI from 'openai';
import { wrapOpenAI } from '../src/adapters/openai.ts';
import { aiCachePolicy, createResilience } from '../src/index.ts';

export async function main(client: OpenAI): Promise<{ text: string; cacheStatus: string | null }> {
  const openai = wrapOpenAI(client, {
    cache: aiCachePolicy({ ttl: 600 }),
    breaker: createResilience({ maxRetries: 1, timeoutMs: 30_000 }),
  });
  const messages = [{ role: 'user' as const, content: 'Say hello' }];

  const completion = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages });
  console.log(completion.choices[0]?.message.content);

  // A real Stream<ChatCompletionChunk>; ask for usage so tokens are counted and limits settle.
  const stream = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    messages,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';

  // The same request again: answered by the cache, which says so in Cache-Status.
  const { response } = await openai.chat.completions
    .create({ model: 'gpt-4o-mini', messages }, { headers: { 'Cache-Control': 'max-age=60' } })
    .withResponse();
  console.log(response.headers.get('cache-status')); // alchemist-perf; hit; ttl=...

  return { text, cacheStatus: response.headers.get('cache-status') };
}

// maxRetries: 0: the breaker retries; the SDK's own retries would multiply its attempts.
if (import.meta.main) await main(new OpenAI({ maxRetries: 0 }));
