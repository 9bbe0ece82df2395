import type { Policy } from '../core/compose.ts';
import type { AiResult } from '../core/result.ts';

function asked(request: Readonly<Record<string, unknown>>): boolean {
  const options = request.stream_options as Record<string, unknown> | null | undefined;
  return options?.include_usage === true;
}

/** Chunks as a client that did not ask for usage gets them: no `choices: []` usage chunk, no `usage` field. */
async function* withoutUsage(chunks: AsyncIterable<unknown>): AsyncGenerator<unknown> {
  for await (const chunk of chunks) {
    const fields = chunk as Record<string, unknown> | null;
    if (typeof fields !== 'object' || fields === null || !('usage' in fields)) {
      yield chunk;
      continue;
    }
    if (Array.isArray(fields.choices) && fields.choices.length === 0) continue;
    const { usage: _usage, ...rest } = fields;
    yield rest;
  }
}

/**
 * Chat and legacy-completion streams carry the usage chunk only when the client asked
 * (`stream_options.include_usage: true`), as OpenAI's do: the gateway always asks upstream (limits
 * settle on real usage, cost is recorded, and the cache keeps it), then drops it here, outside every
 * other policy, for clients that did not. The openai-python quickstart loop indexes
 * `chunk.choices[0]` without a guard and fails on a `choices: []` chunk it did not ask for.
 */
export const usageChunkWhenAsked: Policy<AiResult> = {
  name: 'usageChunkWhenAsked',
  async execute(ctx, next) {
    const result = await next(ctx);
    const api = ctx.wire.api;
    if (result.kind !== 'stream' || (api !== 'openai.chat' && api !== 'openai.completions')) return result;
    if (asked(ctx.request)) return result;
    return { ...result, chunks: withoutUsage(result.chunks) };
  },
};
