import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { MockLanguageModelV4 } from 'ai/test';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { main as aiSdkMain } from '../../examples/ai-sdk.ts';
import { guarded } from '../../examples/compose.ts';
import { main as openAiMain } from '../../examples/openai-adapter.ts';
import { createAsk, main as wrappersMain } from '../../examples/wrappers.ts';
import type { Simulator } from '../../src/simulator/index.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { freePort } from '../helpers/ports.ts';
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

/** Run an example file as its own process (as a user runs it), pointed at the simulator; resolves its URL. */
async function runExample(file: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(import.meta.dirname, '../../examples', file)], {
    env: {
      ...process.env,
      PORT: String(port),
      OPENAI_BASE_URL: `${sim.url}/v1`,
      OPENAI_API_KEY: 'sk-example',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (text: string) => {
    output += text;
  };
  child.stdout?.setEncoding('utf8').on('data', append);
  child.stderr?.setEncoding('utf8').on('data', append);
  const deadline = Date.now() + 20_000;
  while (!output.includes(`listening on http://127.0.0.1:${port}`)) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`${file} did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return { url: `http://127.0.0.1:${port}`, child };
}

describe('examples', () => {
  describe('hono-app, run as a process', () => {
    let app: { url: string; child: ChildProcess };
    beforeAll(async () => {
      app = await runExample('hono-app.ts');
    });
    afterAll(() => {
      app?.child.kill('SIGTERM');
    });
    const post = (body: unknown) =>
      fetch(`${app.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-caller' },
        body: JSON.stringify(body),
      });

    it('hono-app: a miss then a hit, and a streamed answer over SSE', async () => {
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

    // Issue 17 item 2: without app.onError an upstream 400 was a plain-text 500, and an upstream 500
    // was sent 9 times (the SDK's retries inside resilience's) before a plain-text 500.
    it('hono-app: an upstream 400 answers 400 as OpenAI-style JSON', async () => {
      sim.setMode({ fail: '400' });
      try {
        const response = await post({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'bad' }] });
        expect(response.status).toBe(400);
        expect(await response.json()).toEqual({
          error: { message: 'Provider answered 400', type: 'invalid_request_error', code: 'upstream_400' },
        });
        expect(sim.stats().requests).toBe(1);
      } finally {
        sim.setMode(null);
      }
    });

    it('hono-app: an upstream 500 is tried 3 times (no SDK retries), then answers 502 as JSON', async () => {
      sim.setMode({ fail: '500' });
      try {
        const response = await post({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'down' }] });
        expect(response.status).toBe(502);
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
          'bad_upstream_response',
        );
        expect(sim.stats().requests).toBe(3);
      } finally {
        sim.setMode(null);
      }
    });
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

describe('gateway-clients, against a gateway process', () => {
  it('every SDK of the example gets its answer through the gateway', async () => {
    const { startGateway } = await import('../helpers/gateway.ts');
    // No config: the embedded simulator answers every route.
    const gateway = await startGateway({ name: 'readme-gateway-clients' });
    try {
      const { main } = await import('../../examples/gateway-clients.ts');
      const result = await main(gateway.url);
      expect(result.chat.object).toBe('chat.completion');
      expect(result.response.output_text.length).toBeGreaterThan(0);
      expect(result.vectors.data).toHaveLength(2);
      expect(result.message.type).toBe('message');
      expect(result.text.length).toBeGreaterThan(0);
      expect(result.embedding).toEqual(result.vectors.data[0]!.embedding);
    } finally {
      await gateway.stop();
    }
  });
});
