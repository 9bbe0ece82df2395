/**
 * Each SDK pointed at a running gateway (`npm start`): the OpenAI SDK (chat, Responses, embeddings),
 * the Anthropic SDK (Messages) and the Vercel AI SDK (its default model is the Responses API).
 */
import { createOpenAI } from '@ai-sdk/openai';
import Anthropic from '@anthropic-ai/sdk';
import { embed, generateText } from 'ai';
import OpenAI from 'openai';

export async function main(gateway = process.env.GATEWAY_URL ?? 'http://127.0.0.1:8787', apiKey = 'sk-mine') {
  // OpenAI's base URL includes /v1.
  const openai = new OpenAI({ baseURL: `${gateway}/v1`, apiKey });
  const chat = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Hi' }],
  });
  const response = await openai.responses.create({ model: 'gpt-4o-mini', input: 'Hi' });
  const vectors = await openai.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });

  // Anthropic's base URL has no /v1: the SDK appends /v1/messages itself.
  const anthropic = new Anthropic({ baseURL: gateway, apiKey });
  const message = await anthropic.messages.create({
    model: 'claude-3-5-sonnet',
    max_tokens: 256,
    messages: [{ role: 'user', content: 'Hi' }],
  });

  const provider = createOpenAI({ baseURL: `${gateway}/v1`, apiKey });
  const { text } = await generateText({ model: provider('gpt-4o-mini'), prompt: 'Hi' });
  const { embedding } = await embed({ model: provider.embedding('text-embedding-3-small'), value: 'a' });

  console.log(chat.choices[0]?.message.content, response.output_text, message.content[0], text);
  return { chat, response, vectors, message, text, embedding };
}

if (import.meta.main) await main();
