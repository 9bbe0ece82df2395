import { SpanKind } from '@opentelemetry/api';
import { APICallError, generateText, streamText, wrapLanguageModel } from 'ai';
import { convertArrayToReadableStream, MockLanguageModelV4 } from 'ai/test';
import { beforeEach, describe, expect, it } from 'vitest';
import { aiSdkMiddleware } from '../../src/adapters/ai-sdk.ts';
import type { GenerateResult, StreamPart } from '../../src/adapters/ai-sdk-types.ts';
import { createResilience } from '../../src/breaker/resilience.ts';
import { aiCachePolicy } from '../../src/cache/index.ts';
import { isCircuitOpenError } from '../../src/core/errors.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';

const telemetry = useTestTelemetry();
beforeEach(() => telemetry.reset());

const usage = (input: number, output: number) => ({
  inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: output, text: output, reasoning: undefined },
});

const TIMESTAMP = new Date('2026-01-02T03:04:05.000Z');

function generated(text: string): GenerateResult {
  return {
    content: [{ type: 'text', text }],
    finishReason: { unified: 'stop', raw: 'stop' },
    usage: usage(12, 3),
    response: { id: 'resp-1', modelId: 'mock-model-2026', timestamp: TIMESTAMP },
    warnings: [],
  };
}

/** The mock behind aiSdkMiddleware with a fresh cache. */
const withCache = (mock: MockLanguageModelV4) =>
  wrapLanguageModel({ model: mock, middleware: aiSdkMiddleware({ cache: aiCachePolicy() }) });

function parts(words: readonly string[], end: StreamPart[] = []): StreamPart[] {
  return [
    { type: 'stream-start', warnings: [] },
    { type: 'response-metadata', id: 'resp-2', modelId: 'mock-model-2026', timestamp: TIMESTAMP },
    { type: 'text-start', id: 't' },
    ...words.map((delta): StreamPart => ({ type: 'text-delta', id: 't', delta })),
    { type: 'text-end', id: 't' },
    ...end,
  ];
}

const finish: StreamPart = {
  type: 'finish',
  finishReason: { unified: 'stop', raw: 'stop' },
  usage: usage(7, 2),
};

let counter = 0;
const prompt = () => `ai sdk adapter prompt ${++counter}`;

describe('aiSdkMiddleware', () => {
  it('answers a second identical generateText from the cache', async () => {
    let calls = 0;
    const mock = new MockLanguageModelV4({
      provider: 'openai.chat',
      modelId: 'gpt-4o-mini',
      doGenerate: async () => {
        calls++;
        return generated('Hello there');
      },
    });
    const model = withCache(mock);
    const text = prompt();
    const first = await generateText({ model, prompt: text });
    const second = await generateText({ model, prompt: text });
    expect(first.text).toBe('Hello there');
    expect(second.text).toBe('Hello there');
    expect(second.response.modelId).toBe('mock-model-2026');
    expect(second.response.timestamp).toEqual(TIMESTAMP);
    expect(second.providerMetadata?.alchemist?.cacheStatus).toMatch(/^alchemist-perf; hit/);
    expect(calls).toBe(1);
    // A different setting is a different answer.
    await generateText({ model, prompt: text, temperature: 0.5 });
    expect(calls).toBe(2);
  });

  it('keeps streams streams, and replays a cached stream part for part', async () => {
    let calls = 0;
    const mock = new MockLanguageModelV4({
      provider: 'openai.chat',
      modelId: 'gpt-4o-mini',
      doStream: async () => {
        calls++;
        return { stream: convertArrayToReadableStream(parts(['Hel', 'lo', '!'], [finish])) };
      },
    });
    const model = withCache(mock);
    const text = prompt();
    const live = streamText({ model, prompt: text });
    const deltas: string[] = [];
    for await (const delta of live.textStream) deltas.push(delta);
    expect(deltas.join('')).toBe('Hello!');

    const replay = streamText({ model, prompt: text });
    expect(await replay.text).toBe('Hello!');
    expect((await replay.response).timestamp).toEqual(TIMESTAMP);
    expect((await replay.usage).outputTokens).toBe(2);
    expect(calls).toBe(1);
  });

  it('records the GenAI CLIENT span with provider, model and usage, for upstream calls only', async () => {
    const mock = new MockLanguageModelV4({
      provider: 'anthropic.messages',
      modelId: 'claude-3-haiku',
      doGenerate: async () => generated('ok'),
    });
    const model = withCache(mock);
    const text = prompt();
    await generateText({ model, prompt: text, maxOutputTokens: 50 });
    await generateText({ model, prompt: text, maxOutputTokens: 50 });
    const clientSpans = telemetry.spans().filter((span) => span.kind === SpanKind.CLIENT);
    expect(clientSpans).toHaveLength(1);
    const attempt = clientSpans[0]!;
    expect(attempt.name).toBe('chat claude-3-haiku');
    expect(attempt.attributes['gen_ai.provider.name']).toBe('anthropic');
    expect(attempt.attributes['gen_ai.request.max_tokens']).toBe(50);
    expect(attempt.attributes['gen_ai.response.model']).toBe('mock-model-2026');
    expect(attempt.attributes['gen_ai.usage.input_tokens']).toBe(12);
    expect(attempt.attributes['gen_ai.usage.output_tokens']).toBe(3);
    expect(
      await telemetry.histogramCount('alchemist.request.duration', {
        'alchemist.cache.result': 'hit',
        'gen_ai.request.model': 'claude-3-haiku',
      }),
    ).toBe(1);
    // The envelope carries the usage, so the cache knows what the hit saved.
    expect(
      await telemetry.sum('alchemist.cache.tokens_saved', { 'gen_ai.request.model': 'claude-3-haiku' }),
    ).toBe(15);
  });

  it('throws provider errors as APICallError, and CircuitOpenError once the breaker opens', async () => {
    let calls = 0;
    const mock = new MockLanguageModelV4({
      provider: 'openai.chat',
      modelId: 'gpt-4o-flaky',
      doGenerate: async () => {
        calls++;
        throw new APICallError({
          message: 'upstream down',
          url: 'https://api.example.test/v1/chat/completions',
          requestBodyValues: {},
          statusCode: 503,
          isRetryable: false,
        });
      },
    });
    const model = wrapLanguageModel({
      model: mock,
      middleware: aiSdkMiddleware({
        breaker: createResilience({ failureThreshold: 2, maxRetries: 0, halfOpenAfterMs: 60_000 }),
      }),
    });
    for (let i = 0; i < 2; i++) {
      const error = await generateText({ model, prompt: prompt(), maxRetries: 0 }).catch((e: unknown) => e);
      expect(APICallError.isInstance(error)).toBe(true);
      expect((error as APICallError).statusCode).toBe(503);
    }
    const open = await generateText({ model, prompt: prompt(), maxRetries: 0 }).catch((e: unknown) => e);
    expect(isCircuitOpenError(open)).toBe(true);
    expect(calls).toBe(2);
  });

  it('reports a stream error part to the caller and never caches that stream', async () => {
    let calls = 0;
    const mock = new MockLanguageModelV4({
      provider: 'openai.chat',
      modelId: 'gpt-4o-mini',
      doStream: async () => {
        calls++;
        const tail: StreamPart[] =
          calls === 1 ? [{ type: 'error', error: new Error('overloaded mid-stream') }] : [finish];
        return { stream: convertArrayToReadableStream(parts(['a', 'b'], tail)) };
      },
    });
    const model = withCache(mock);
    const text = prompt();
    const errors: unknown[] = [];
    const broken = streamText({ model, prompt: text, onError: ({ error }) => void errors.push(error) });
    await broken.consumeStream();
    expect(errors.map((error) => (error as Error).message)).toContain('overloaded mid-stream');
    expect(await streamText({ model, prompt: text }).text).toBe('ab');
    expect(calls).toBe(2);
  });

  it("passes the caller's abort signal to the model", async () => {
    let seen: AbortSignal | undefined;
    const mock = new MockLanguageModelV4({
      provider: 'openai.chat',
      modelId: 'gpt-4o-mini',
      doGenerate: async (options) => {
        seen = options.abortSignal;
        return new Promise<GenerateResult>((_resolve, reject) => {
          options.abortSignal?.addEventListener('abort', () => reject(options.abortSignal?.reason));
        });
      },
    });
    const model = wrapLanguageModel({ model: mock, middleware: aiSdkMiddleware() });
    const controller = new AbortController();
    const pending = generateText({ model, prompt: prompt(), abortSignal: controller.signal, maxRetries: 0 });
    await expect.poll(() => seen).toBeDefined();
    controller.abort();
    await expect(pending).rejects.toThrow();
    expect(seen?.aborted).toBe(true);
  });
});
