/**
 * `aiSdkMiddleware()`: the Vercel AI SDK's generateText/streamText through the policies.
 */
import { generateText, streamText, wrapLanguageModel } from 'ai';
import { aiSdkMiddleware } from '../src/adapters/ai-sdk.ts';

type BaseModel = Parameters<typeof wrapLanguageModel>[0]['model'];

export async function main(baseModel: BaseModel): Promise<{ text: string; streamed: string }> {
  // baseModel: any AI SDK model, e.g. openai('gpt-4o-mini') from @ai-sdk/openai. Through the gateway:
  // createOpenAI({ baseURL: 'http://127.0.0.1:8787/v1' }).chat('gpt-4o-mini'), as it has no /v1/responses yet.
  const model = wrapLanguageModel({
    model: baseModel,
    middleware: aiSdkMiddleware({ cache: { ttl: 600 }, breaker: { maxRetries: 1, timeoutMs: 30_000 } }),
  });

  const { text, providerMetadata } = await generateText({ model, prompt: 'Why is the sky blue?' });
  console.log(providerMetadata?.alchemist?.cacheStatus); // on a hit: alchemist-perf; hit; ttl=...

  const result = streamText({ model, prompt: 'Tell me a short story' });
  let streamed = '';
  for await (const delta of result.textStream) streamed += delta;

  return { text, streamed };
}
