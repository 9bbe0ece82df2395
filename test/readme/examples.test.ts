import { MockLanguageModelV4 } from 'ai/test';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { main as aiSdkMain } from '../../examples/ai-sdk.ts';
import { guarded } from '../../examples/compose.ts';
import { createApp } from '../../examples/hono-app.ts';
import { main as openAiMain } from '../../examples/openai-adapter.ts';
import { createAsk, main as wrappersMain } from '../../examples/wrappers.ts';
import type { Simulator } from '../../src/simulator/index.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';

/** The README's examples run, against the simulated provider, and do what the README says. */
useTestTelemetry();
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim?.close();
});
beforeEach(() => {
  sim.resetStats();
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

const client = () => new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-example', maxRetries: 0 });

describe('examples', () => {
  it('hono-app: a miss then a hit, and a streamed answer over SSE', async () => {
    const app = createApp(client());
    const post = (body: unknown) =>
      app.request('/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-caller' },
        body: JSON.stringify(body),
      });
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hono example' }] };
    const first = await post(body);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-status')).toMatch(/fwd=miss/);
    expect(first.headers.get('ratelimit-policy')).toBeTruthy();
    const second = await post(body);
    expect(second.headers.get('cache-status')).toMatch(/; hit/);
    expect(await second.json()).toEqual(await first.json());
    const stream = await post({ ...body, stream: true });
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    expect((await stream.text()).trim().endsWith('data: [DONE]')).toBe(true);
    expect(sim.stats().requests).toBe(2);
  });

  it('wrappers: nested wrappers and withAll each call upstream once for a repeated request', async () => {
    const { ask } = createAsk(client());
    const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'wrappers' }] };
    const first = await ask(request);
    expect(await ask(request)).toEqual(first);
    expect(sim.stats().requests).toBe(1);
    expect(await wrappersMain(client())).toBeTruthy();
  });

  it('compose: the wrapped function runs once for two identical inputs', async () => {
    const fn = vi.fn(async (input: string) => ({ echo: input }));
    const call = guarded('echo', fn);
    expect(await call('x')).toEqual({ echo: 'x' });
    expect(await call('x')).toEqual({ echo: 'x' });
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('openai-adapter: JSON, a stream, then a cache hit', async () => {
    const { text, cacheStatus } = await openAiMain(client());
    expect(text.length).toBeGreaterThan(0);
    expect(cacheStatus).toMatch(/^alchemist-perf; hit/);
    expect(sim.stats().requests).toBe(2);
  });

  it('ai-sdk: generateText and streamText through the middleware', async () => {
    const model = new MockLanguageModelV4({
      provider: 'openai.chat',
      modelId: 'gpt-4o-mini',
      doGenerate: {
        content: [{ type: 'text', text: 'Rayleigh scattering.' }],
        finishReason: { unified: 'stop', raw: 'stop' },
        usage: {
          inputTokens: { total: 6, noCache: 6, cacheRead: undefined, cacheWrite: undefined },
          outputTokens: { total: 3, text: 3, reasoning: undefined },
        },
        warnings: [],
      },
      doStream: {
        stream: new ReadableStream({
          start(controller) {
            controller.enqueue({ type: 'text-start', id: 't' });
            controller.enqueue({ type: 'text-delta', id: 't', delta: 'Once upon a time.' });
            controller.enqueue({ type: 'text-end', id: 't' });
            controller.enqueue({
              type: 'finish',
              finishReason: { unified: 'stop', raw: 'stop' },
              usage: {
                inputTokens: { total: 5, noCache: 5, cacheRead: undefined, cacheWrite: undefined },
                outputTokens: { total: 4, text: 4, reasoning: undefined },
              },
            });
            controller.close();
          },
        }),
      },
    });
    expect(await aiSdkMain(model)).toEqual({ text: 'Rayleigh scattering.', streamed: 'Once upon a time.' });
  });
});
