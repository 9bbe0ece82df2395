import { SpanKind } from '@opentelemetry/api';
import OpenAI, { APIPromise, APIUserAbortError, InternalServerError } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { Stream } from 'openai/streaming';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { wrapOpenAI } from '../../src/adapters/openai.ts';
import { guardChunks } from '../../src/adapters/openai-stream.ts';
import { createResilience } from '../../src/breaker/resilience.ts';
import { aiCachePolicy } from '../../src/cache/index.ts';
import { isCircuitOpenError, isUpstreamError } from '../../src/core/errors.ts';
import type { Simulator } from '../../src/simulator/index.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';

const telemetry = useTestTelemetry();
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim?.close();
});
beforeEach(() => {
  telemetry.reset();
  sim.resetStats();
  sim.setMode(null);
});

let prompt = 0;
/** A prompt no other test uses, so caches start cold. */
const messages = () => [{ role: 'user' as const, content: `adapter test prompt ${++prompt}` }];

function client(apiKey = 'sk-test-adapter') {
  return new OpenAI({ baseURL: `${sim.url}/v1`, apiKey, maxRetries: 0 });
}

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  return text;
}

describe('wrapOpenAI', () => {
  it('answers a second identical call from the cache, with the SDK types', async () => {
    const openai = wrapOpenAI(client(), { cache: aiCachePolicy() });
    const params = { model: 'gpt-4o-mini', messages: messages() };

    const first = openai.chat.completions.create(params);
    expect(first).toBeInstanceOf(APIPromise);
    const { data, response, request_id } = await first.withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.choices[0]?.message.content).toBeTruthy();
    expect(response.status).toBe(200);
    // The provider's own Response: its request id is there, as the SDK would give it.
    expect(request_id).toMatch(/^req_/);
    expect((await first)._request_id).toBe(request_id);

    const second = await openai.chat.completions.create(params).withResponse();
    expect(second.data.choices[0]?.message.content).toBe(data.choices[0]?.message.content);
    expect(second.response.headers.get('cache-status')).toMatch(/^alchemist-perf; hit/);
    expect(second.request_id).toBeNull();
    expect(sim.stats().requests).toBe(1);
  });

  it('returns a real Stream for stream: true, and replays it from the cache chunk for chunk', async () => {
    const openai = wrapOpenAI(client(), { cache: aiCachePolicy() });
    const params = { model: 'gpt-4o-mini', messages: messages(), stream: true as const };

    const stream = await openai.chat.completions.create(params);
    expect(stream).toBeInstanceOf(Stream);
    const live = await collect(stream);
    expect(live.length).toBeGreaterThan(0);

    const replay = await openai.chat.completions.create(params);
    expect(replay).toBeInstanceOf(Stream);
    // toReadableStream() is the SDK's NDJSON view of the stream: it must keep working.
    const lines = (await new Response(replay.toReadableStream()).text()).trim().split('\n');
    const replayed = lines.map((line) => JSON.parse(line) as ChatCompletionChunk);
    expect(replayed.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join('')).toBe(live);
    expect(sim.stats().requests).toBe(1);
    expect(sim.stats().streams).toBe(1);
  });

  it('records a request span, one GenAI CLIENT span per upstream call, and the metrics', async () => {
    const openai = wrapOpenAI(client(), { cache: aiCachePolicy() });
    const params = { model: 'gpt-4o-mini', messages: messages() };
    const before = await telemetry.histogramCount('gen_ai.client.operation.duration');
    const requestsBefore = await telemetry.histogramCount('alchemist.request.duration', {
      'alchemist.cache.result': 'hit',
    });
    await openai.chat.completions.create(params);
    await openai.chat.completions.create(params);

    const clientSpans = telemetry.spans().filter((span) => span.kind === SpanKind.CLIENT);
    expect(clientSpans).toHaveLength(1);
    const attempt = clientSpans[0]!;
    expect(attempt.name).toBe('chat gpt-4o-mini');
    expect(attempt.attributes['gen_ai.provider.name']).toBe('openai');
    expect(attempt.attributes['server.address']).toBe('127.0.0.1');
    expect(attempt.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(attempt.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    const requests = telemetry.spans().filter((span) => span.name === 'alchemist chat gpt-4o-mini');
    expect(requests).toHaveLength(2);
    expect(attempt.parentSpanContext?.spanId).toBe(requests[0]!.spanContext().spanId);
    // The API key never reaches a span: the tenant is a hash.
    for (const span of telemetry.spans()) {
      expect(JSON.stringify(span.attributes)).not.toContain('sk-test-adapter');
    }

    expect(await telemetry.histogramCount('gen_ai.client.operation.duration')).toBe(before + 1);
    expect(
      await telemetry.histogramCount('alchemist.request.duration', { 'alchemist.cache.result': 'hit' }),
    ).toBe(requestsBefore + 1);
  });

  it('throws the SDK error for a provider failure, and CircuitOpenError once the breaker opens', async () => {
    const openai = wrapOpenAI(client(), {
      cache: aiCachePolicy(),
      breaker: createResilience({ failureThreshold: 2, maxRetries: 0, halfOpenAfterMs: 60_000 }),
    });
    sim.setMode({ fail: '500' });
    const params = { model: 'gpt-4o-mini', messages: messages() };
    for (let i = 0; i < 2; i++) {
      const error = await openai.chat.completions.create(params).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InternalServerError);
      expect((error as InternalServerError).status).toBe(500);
    }
    const open = await openai.chat.completions.create(params).catch((e: unknown) => e);
    expect(isCircuitOpenError(open)).toBe(true);
    expect(sim.stats().requests).toBe(2);
  });

  it("passes the caller's signal through: an abort cancels the upstream request", async () => {
    const openai = wrapOpenAI(client());
    sim.setMode({ fail: 'hang' });
    const controller = new AbortController();
    const pending = openai.chat.completions.create(
      { model: 'gpt-4o-mini', messages: messages() },
      { signal: controller.signal },
    );
    await expect.poll(() => sim.stats().inFlight).toBe(1);
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(APIUserAbortError);
    await expect.poll(() => sim.stats().inFlight).toBe(0);
  });

  it('never stores a broken stream', async () => {
    const openai = wrapOpenAI(client(), { cache: aiCachePolicy() });
    const params = { model: 'gpt-4o-mini', messages: messages(), stream: true as const };
    const broken = await openai.chat.completions.create(params, { headers: { 'x-sim-fail': 'cut-stream' } });
    await expect(collect(broken)).rejects.toThrow();
    const retry = await openai.chat.completions.create(params);
    expect((await collect(retry)).length).toBeGreaterThan(0);
    expect(sim.stats().requests).toBe(2);
  });

  it('never stores a stream the caller aborted (the SDK ends those quietly)', async () => {
    const openai = wrapOpenAI(client(), { cache: aiCachePolicy() });
    const params = { model: 'gpt-4o-mini', messages: messages(), stream: true as const };
    const stream = await openai.chat.completions.create(params, {
      headers: { 'x-sim-chunk-delay-ms': '20' },
    });
    let chunks = 0;
    for await (const _chunk of stream) {
      if (++chunks === 2) stream.controller.abort();
    }
    expect(chunks).toBe(2);
    const again = await openai.chat.completions.create(params).withResponse();
    expect(again.response.headers.get('cache-status')).toBeNull();
    expect((await collect(again.data)).length).toBeGreaterThan(0);
    expect(sim.stats().requests).toBe(2);
  });

  it('honours Cache-Control in the request headers and scopes the cache by API key', async () => {
    const cache = aiCachePolicy();
    const alice = wrapOpenAI(client('sk-alice'), { cache });
    const bob = wrapOpenAI(client('sk-bob'), { cache });
    const params = { model: 'gpt-4o-mini', messages: messages() };
    await alice.chat.completions.create(params);
    await alice.chat.completions.create(params, { headers: { 'Cache-Control': 'no-store' } });
    expect(sim.stats().requests).toBe(2);
    await bob.chat.completions.create(params);
    expect(sim.stats().requests).toBe(3);
    await alice.chat.completions.create(params);
    expect(sim.stats().requests).toBe(3);
  });

  it('leaves the client untouched and passes other methods through', async () => {
    const original = client();
    const create = original.chat.completions.create;
    const wrapped = wrapOpenAI(original);
    expect(original.chat.completions.create).toBe(create);
    expect(wrapped.chat.completions.create).not.toBe(create);
    expect(wrapped.baseURL).toBe(original.baseURL);
    expect(wrapped.chat.completions.retrieve).toBeTypeOf('function');
    expect(() => wrapOpenAI({} as OpenAI)).toThrow(/chat\.completions\.create/);
  });
});

describe('guardChunks', () => {
  const chunk = (finish: string | null) =>
    ({
      id: 'c',
      object: 'chat.completion.chunk',
      created: 0,
      model: 'm',
      choices: [{ index: 0, delta: {}, finish_reason: finish }],
    }) as ChatCompletionChunk;
  async function* source(...chunks: ChatCompletionChunk[]) {
    yield* chunks;
  }
  async function all<T>(iterable: AsyncIterable<T>): Promise<T[]> {
    const out: T[] = [];
    for await (const item of iterable) out.push(item);
    return out;
  }

  it('fails a stream in which no choice finished (a clean close without [DONE] looks complete to the SDK)', async () => {
    const signal = new AbortController().signal;
    const guarded = guardChunks(source(chunk(null), chunk(null)), signal, 1000);
    await expect(all(guarded)).rejects.toSatisfy(isUpstreamError);
    const whole = await all(guardChunks(source(chunk(null), chunk('stop')), signal, 1000));
    expect(whole).toHaveLength(2);
  });

  it('fails a stream that ended because the call was aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(all(guardChunks(source(chunk('stop')), controller.signal, 1000))).rejects.toMatchObject({
      name: 'AbortError',
    });
  });
});
