import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseSse } from '../../src/core/sse.ts';
import type { Simulator } from '../../src/simulator/index.ts';
import { simulateReply, startSimulator } from '../../src/simulator/index.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ apiKey: 'sk-sim' });
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.setMode(null);
  sim.resetStats();
});

const messages = [{ role: 'user', content: 'Say something about caches' }];
const auth = { authorization: 'Bearer sk-sim', 'content-type': 'application/json' };

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { ...auth, ...headers },
    body: JSON.stringify(body),
  });

async function events(response: Response) {
  const found: { event?: string; data: string }[] = [];
  for await (const event of parseSse(response.body!)) found.push(event);
  return found;
}

describe('simulated provider: OpenAI API', () => {
  it('answers deterministically with usage that matches the reply', async () => {
    const first = (await (await post('/v1/chat/completions', { model: 'gpt-4o', messages })).json()) as {
      object: string;
      model: string;
      choices: { message: { content: string }; finish_reason: string }[];
      usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    };
    const second = await (await post('/v1/chat/completions', { model: 'gpt-4o', messages })).json();
    expect(second).toMatchObject({ choices: first.choices, usage: first.usage });
    expect(first.object).toBe('chat.completion');
    expect(first.model).toBe('gpt-4o');
    expect(first.choices[0]!.finish_reason).toBe('stop');
    const content = first.choices[0]!.message.content;
    expect(first.usage.completion_tokens).toBe(content.split(' ').length);
    expect(first.usage.total_tokens).toBe(first.usage.prompt_tokens + first.usage.completion_tokens);
    const other = (await (
      await post('/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'other' }] })
    ).json()) as { choices: { message: { content: string } }[] };
    expect(other.choices[0]!.message.content).not.toBe(content);
  });

  it('honours max_tokens with finish_reason length', async () => {
    const body = (await (
      await post('/v1/chat/completions', { model: 'gpt-4o', messages, max_tokens: 3 })
    ).json()) as { choices: { finish_reason: string }[]; usage: { completion_tokens: number } };
    expect(body.usage.completion_tokens).toBe(3);
    expect(body.choices[0]!.finish_reason).toBe('length');
  });

  it('streams chunks, a usage chunk and [DONE], with the same text as the JSON answer', async () => {
    const response = await post('/v1/chat/completions', { model: 'gpt-4o', messages, stream: true });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const found = await events(response);
    expect(found.at(-1)!.data).toBe('[DONE]');
    const chunks = found.slice(0, -1).map((e) => JSON.parse(e.data));
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    const reply = simulateReply('gpt-4o', messages, undefined);
    expect(text).toBe(reply.words.join(''));
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: reply.outputTokens } });
    expect(chunks.at(-2).choices[0].finish_reason).toBe('stop');
    expect(sim.stats()).toMatchObject({ requests: 1, streams: 1, byApi: { openai: 1 } });
  });

  it('works with the official openai SDK, JSON and streaming', async () => {
    const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-sim', maxRetries: 0 });
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(completion.choices[0]?.message.content).toBeTruthy();
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(completion.choices[0]?.message.content);
    expect(usage).toEqual(completion.usage);
  });

  it('rejects a wrong key with 401 and an invalid body with 400', async () => {
    const wrong = await post(
      '/v1/chat/completions',
      { model: 'gpt-4o', messages },
      { authorization: 'Bearer nope' },
    );
    expect(wrong.status).toBe(401);
    const invalid = await post('/v1/chat/completions', { model: 'gpt-4o' });
    expect(invalid.status).toBe(400);
    expect(sim.stats()).toMatchObject({ unauthorized: 1, invalid: 1 });
  });
});

describe('simulated provider: Anthropic Messages API', () => {
  it('answers a Messages request with content blocks and usage', async () => {
    const response = await post(
      '/v1/messages',
      { model: 'claude-3-5-sonnet', max_tokens: 100, system: 'be brief', messages },
      { authorization: '', 'x-api-key': 'sk-sim' },
    );
    const body = (await response.json()) as Record<string, unknown>;
    const reply = simulateReply('claude-3-5-sonnet', messages, 100, 'be brief');
    expect(body).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-3-5-sonnet',
      content: [{ type: 'text', text: reply.words.join('') }],
      stop_reason: 'end_turn',
      usage: { input_tokens: reply.inputTokens, output_tokens: reply.outputTokens },
    });
  });

  it('streams the Messages event sequence', async () => {
    const response = await post('/v1/messages', {
      model: 'claude-3-haiku',
      max_tokens: 5,
      messages,
      stream: true,
    });
    const names = (await events(response)).map((e) => e.event);
    expect(names.slice(0, 3)).toEqual(['message_start', 'content_block_start', 'ping']);
    expect(names.filter((n) => n === 'content_block_delta')).toHaveLength(5);
    expect(names.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
  });

  it('requires max_tokens, as the real API does', async () => {
    const response = await post('/v1/messages', { model: 'claude-3-haiku', messages });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });
});

describe('simulated provider: failures', () => {
  it('fails one request by header with 429 and Retry-After', async () => {
    const response = await post(
      '/v1/chat/completions',
      { model: 'gpt-4o', messages },
      { 'x-sim-fail': '429', 'x-sim-retry-after': '7' },
    );
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
    expect(((await response.json()) as { error: { type: string } }).error.type).toBe('rate_limit_exceeded');
    expect(sim.stats().failures).toBe(1);
  });

  it('fails exactly every other request with rate 0.5, set at run time over HTTP', async () => {
    const set = await fetch(`${sim.url}/_sim/mode`, {
      method: 'POST',
      body: JSON.stringify({ fail: '500', rate: 0.5 }),
    });
    expect(await set.json()).toMatchObject({ fail: '500', rate: 0.5 });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await post('/v1/chat/completions', { model: 'gpt-4o', messages })).status);
    expect(statuses.filter((s) => s === 500)).toHaveLength(3);
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    const stats = (await (await fetch(`${sim.url}/_sim/stats`)).json()) as {
      requests: number;
      failures: number;
    };
    expect(stats).toMatchObject({ requests: 6, failures: 3 });
  });

  it('limits a global failure to one model', async () => {
    sim.setMode({ fail: '503', model: 'gpt-4o' });
    expect((await post('/v1/chat/completions', { model: 'gpt-4o', messages })).status).toBe(503);
    expect((await post('/v1/chat/completions', { model: 'gpt-4o-mini', messages })).status).toBe(200);
  });

  it('rejects an invalid mode with a message naming the field', async () => {
    const response = await fetch(`${sim.url}/_sim/mode`, {
      method: 'POST',
      body: JSON.stringify({ fail: 'boom' }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain(
      'mode.fail = "boom"',
    );
    expect(() => sim.setMode({ rate: 2 })).toThrow(/mode.rate = 2/);
  });

  it('hangs until the caller gives up, and counts the request in flight meanwhile', async () => {
    const controller = new AbortController();
    const pending = post('/v1/chat/completions', { model: 'gpt-4o', messages }, { 'x-sim-fail': 'hang' });
    const aborted = fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...auth, 'x-sim-fail': 'hang' },
      body: JSON.stringify({ model: 'gpt-4o', messages }),
      signal: controller.signal,
    });
    await expect.poll(() => sim.stats().inFlight).toBe(2);
    controller.abort();
    await expect(aborted).rejects.toThrow();
    await expect.poll(() => sim.stats().inFlight).toBe(1);
    await sim.close();
    await expect(pending).rejects.toThrow();
    sim = await startSimulator({ apiKey: 'sk-sim' });
  });

  it('cuts a stream midway without [DONE]', async () => {
    const response = await post(
      '/v1/chat/completions',
      { model: 'gpt-4o', messages, stream: true },
      { 'x-sim-fail': 'cut-stream' },
    );
    expect(response.status).toBe(200);
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const event of parseSse(response.body!)) seen.push(event.data);
      })(),
    ).rejects.toThrow();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen).not.toContain('[DONE]');
  });

  it('sends headers at once but the first chunk late with slow-first-chunk', async () => {
    const started = performance.now();
    const response = await post(
      '/v1/chat/completions',
      { model: 'gpt-4o', messages, stream: true },
      { 'x-sim-fail': 'slow-first-chunk', 'x-sim-first-chunk-delay-ms': '300' },
    );
    const headersAfter = performance.now() - started;
    await events(response);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(headersAfter).toBeLessThan(performance.now() - started);
  });

  it('answers 200 with a body that is not JSON in malformed mode', async () => {
    const response = await post(
      '/v1/chat/completions',
      { model: 'gpt-4o', messages },
      { 'x-sim-fail': 'malformed' },
    );
    expect(response.status).toBe(200);
    await expect(response.json()).rejects.toThrow();
  });

  it('adds the configured latency', async () => {
    sim.setMode({ latencyMs: 120 });
    const started = performance.now();
    await (await post('/v1/chat/completions', { model: 'gpt-4o', messages })).json();
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
  });
});
