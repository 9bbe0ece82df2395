import type { Next } from '../core/compose.ts';
import type { CallContext } from '../core/context.ts';
import type { AiResult, TokenUsage } from '../core/result.ts';
import { observeStream } from '../core/result.ts';
import { OutputText } from './tokens.ts';

/** Cache results that mean no provider tokens were spent for this caller. */
const SERVED_FROM_CACHE = new Set(['hit', 'coalesced', 'stale']);

/**
 * True when the cache answered this call (hit, stale, or a coalesced wait on another caller's call):
 * the cache runs inside the limiters, which learn it from `ctx.decisions.cacheResult` at settlement.
 */
export function servedFromCache(ctx: CallContext): boolean {
  return SERVED_FROM_CACHE.has(ctx.decisions.cacheResult ?? '');
}

/** How a limited call ended, for settlement. */
export interface CallOutcome {
  /** The provider reported usage (body, or a stream's final chunk). */
  readonly usage: TokenUsage | undefined;
  /** Output text seen, for counting when no usage was reported. */
  readonly output: OutputText;
  /** False when the call failed before producing anything (nothing was generated: refund). */
  readonly produced: boolean;
  readonly error?: unknown;
  /** The result, when there is one (upstream headers for feedback). */
  readonly result?: AiResult;
}

/**
 * Run `next` and call `settle` exactly once when the call is really over: after a JSON result (before
 * it is returned, so headers can reflect the settlement), when a stream ends, fails or is abandoned,
 * when the call throws, or when the caller aborts a stream nobody reads any more.
 */
export async function runAndSettle(
  ctx: CallContext,
  next: Next<AiResult>,
  settle: (outcome: CallOutcome) => void | Promise<void>,
): Promise<AiResult> {
  let settled = false;
  const done = async (outcome: CallOutcome) => {
    if (settled) return;
    settled = true;
    try {
      await settle(outcome);
    } catch {
      // Settlement is best effort; it never breaks the call.
    }
  };
  let result: AiResult;
  try {
    result = await next(ctx);
  } catch (error) {
    await done({ usage: undefined, output: new OutputText(), produced: false, error });
    throw error;
  }
  if (result.kind === 'json') {
    const output = new OutputText();
    output.append(ctx.wire.outputText(result.body));
    await done({
      usage: ctx.wire.usage(result.body),
      output,
      produced: true,
      result,
    });
    return result;
  }
  const output = new OutputText();
  const reader = ctx.wire.streamReader();
  let chunks = 0;
  const streamed = result;
  const outcome = (error?: unknown): CallOutcome => ({
    usage: reader.usage,
    output,
    produced: chunks > 0,
    result: streamed,
    ...(error === undefined ? {} : { error }),
  });
  // A stream nobody starts reading never runs its `finally`: the caller going away must still settle.
  const onAbort = () => void done(outcome(ctx.signal.reason));
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  return {
    ...result,
    chunks: observeStream(
      result.chunks,
      (chunk) => {
        chunks++;
        const text = reader.read(chunk);
        if (text) output.append(text);
      },
      ({ error }) => {
        ctx.signal.removeEventListener('abort', onAbort);
        void done(outcome(error));
      },
    ),
  };
}
