import type { CallContext, CallContextInit } from '../../src/core/context.ts';
import { createCallContext } from '../../src/core/context.ts';
import type { AiResult } from '../../src/core/result.ts';
import { jsonResult, streamResult } from '../../src/core/result.ts';

export { manualClock } from '../helpers/clock.ts';

export function ctxFor(init: Partial<CallContextInit> = {}): CallContext {
  return createCallContext({ provider: 'openai', model: 'gpt-4o', tenant: 'alice', tier: 'free', ...init });
}

/** An upstream that answers JSON with the given usage, counting its calls. */
export function jsonUpstream(usage?: { prompt_tokens: number; completion_tokens: number }) {
  const calls: number[] = [];
  const call = async (ctx: CallContext): Promise<AiResult> => {
    calls.push(Date.now());
    ctx.decisions.upstreamAttempts++;
    return jsonResult({
      model: ctx.model,
      choices: [{ message: { content: 'ok' } }],
      ...(usage ? { usage } : {}),
    });
  };
  return { call, calls };
}

/** A stream of `n` chunks, the last carrying usage when given. */
export function streamUpstream(n: number, usage?: { prompt_tokens: number; completion_tokens: number }) {
  return async (ctx: CallContext): Promise<AiResult> => {
    ctx.decisions.upstreamAttempts++;
    return streamResult(
      (async function* () {
        for (let i = 0; i < n; i++) {
          const last = i === n - 1;
          yield { choices: [{ delta: { content: 'word ' } }], ...(last && usage ? { usage } : {}) };
        }
      })(),
    );
  };
}

export async function drain(result: AiResult): Promise<unknown[]> {
  if (result.kind === 'json') return [result.body];
  const chunks: unknown[] = [];
  for await (const chunk of result.chunks) chunks.push(chunk);
  return chunks;
}
