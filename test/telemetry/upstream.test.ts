import { SpanKind } from '@opentelemetry/api';
import { beforeEach, describe, expect, it } from 'vitest';
import { createCallContext } from '../../src/core/context.ts';
import { jsonResult, streamResult } from '../../src/core/result.ts';
import { traceUpstreamCall } from '../../src/telemetry/upstream.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';

const telemetry = useTestTelemetry();
beforeEach(() => telemetry.reset());

const ctx = () =>
  createCallContext({
    provider: 'openai',
    model: 'gpt-4o-mini',
    request: { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] },
    signal: new AbortController().signal,
  });

/** Chunks as an OpenAI stream sends them: content deltas, then the one that ends the choice, then usage. */
async function* openAiStream() {
  yield { model: 'gpt-4o-mini', choices: [{ index: 0, delta: { content: 'a' }, finish_reason: null }] };
  yield { model: 'gpt-4o-mini', choices: [{ index: 0, delta: { content: 'b' }, finish_reason: null }] };
  yield { model: 'gpt-4o-mini', choices: [{ index: 0, delta: {}, finish_reason: 'length' }] };
  yield { model: 'gpt-4o-mini', choices: [], usage: { prompt_tokens: 3, completion_tokens: 2 } };
}

async function drain(chunks: AsyncIterable<unknown>) {
  for await (const _chunk of chunks) {
    // read it all
  }
}

// Issue 15: on streams the CLIENT span lacked gen_ai.response.finish_reasons (they come on a later
// chunk than the first), gen_ai.client.operation.time_per_output_chunk was not recorded, and retries
// did not say which attempt a CLIENT span was.
describe('the CLIENT span and metrics of a streamed upstream call', () => {
  it('carries the finish reasons of the chunk that ended the choice', async () => {
    const result = await traceUpstreamCall(ctx(), {}, async () => streamResult(openAiStream()));
    if (result.kind !== 'stream') throw new Error('expected a stream');
    await drain(result.chunks);
    const client = telemetry.spans().find((span) => span.kind === SpanKind.CLIENT)!;
    expect(client.attributes['gen_ai.response.finish_reasons']).toEqual(['length']);
    expect(client.attributes['gen_ai.usage.output_tokens']).toBe(2);
  });

  it('records time_per_output_chunk once per completed stream, and not for a broken one', async () => {
    const before = await telemetry.histogramCount('gen_ai.client.operation.time_per_output_chunk');
    const ok = await traceUpstreamCall(ctx(), {}, async () => streamResult(openAiStream()));
    if (ok.kind === 'stream') await drain(ok.chunks);
    const broken = await traceUpstreamCall(ctx(), {}, async () =>
      streamResult(
        (async function* () {
          yield { choices: [{ delta: { content: 'a' } }] };
          yield { choices: [{ delta: { content: 'b' } }] };
          throw new Error('connection reset');
        })(),
      ),
    );
    if (broken.kind === 'stream') await expect(drain(broken.chunks)).rejects.toThrow('connection reset');
    const points = await telemetry.points('gen_ai.client.operation.time_per_output_chunk', {
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o-mini',
    });
    expect(points.length).toBeGreaterThan(0);
    expect(await telemetry.histogramCount('gen_ai.client.operation.time_per_output_chunk')).toBe(before + 1);
  });

  it('numbers the resends of one request with http.request.resend_count', async () => {
    const call = ctx();
    for (let attempt = 0; attempt < 3; attempt++) {
      const result = await traceUpstreamCall(call, {}, async () => streamResult(openAiStream()));
      if (result.kind === 'stream') await drain(result.chunks);
    }
    const counts = telemetry
      .spans()
      .filter((span) => span.kind === SpanKind.CLIENT)
      .map((span) => span.attributes['http.request.resend_count']);
    expect(counts).toEqual([undefined, 1, 2]);
  });
});

// Issue 15: captured content (opt-in) followed OpenAI's wire shape, not the spec's
// gen_ai.input.messages / gen_ai.output.messages ({role, parts[]}).
describe('captured message content (opt-in)', () => {
  it('follows the semconv shape: text, tool_call and tool_call_response parts, finish_reason', async () => {
    process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT = 'true';
    try {
      const call = createCallContext({
        provider: 'openai',
        model: 'gpt-4o-mini',
        request: {
          model: 'gpt-4o-mini',
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
            {
              role: 'assistant',
              content: null,
              tool_calls: [
                {
                  id: 'call_1',
                  type: 'function',
                  function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
                },
              ],
            },
            { role: 'tool', tool_call_id: 'call_1', content: 'rainy, 57°F' },
          ],
        },
        signal: new AbortController().signal,
      });
      await traceUpstreamCall(call, {}, async () =>
        jsonResult({
          model: 'gpt-4o-mini',
          choices: [{ index: 0, message: { role: 'assistant', content: 'Rainy.' }, finish_reason: 'stop' }],
        }),
      );
      const client = telemetry.spans().find((span) => span.kind === SpanKind.CLIENT)!;
      expect(JSON.parse(client.attributes['gen_ai.input.messages'] as string)).toEqual([
        { role: 'system', parts: [{ type: 'text', content: 'Be brief.' }] },
        { role: 'user', parts: [{ type: 'text', content: 'Weather in Paris?' }] },
        {
          role: 'assistant',
          parts: [{ type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }],
        },
        { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_1', response: 'rainy, 57°F' }] },
      ]);
      expect(JSON.parse(client.attributes['gen_ai.output.messages'] as string)).toEqual([
        { role: 'assistant', parts: [{ type: 'text', content: 'Rainy.' }], finish_reason: 'stop' },
      ]);
    } finally {
      delete process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT;
    }
  });

  it('records no content without the opt-in', async () => {
    await traceUpstreamCall(ctx(), {}, async () =>
      jsonResult({ choices: [{ message: { role: 'assistant', content: 'x' } }] }),
    );
    const client = telemetry.spans().find((span) => span.kind === SpanKind.CLIENT)!;
    expect(client.attributes['gen_ai.input.messages']).toBeUndefined();
    expect(client.attributes['gen_ai.output.messages']).toBeUndefined();
  });
});
