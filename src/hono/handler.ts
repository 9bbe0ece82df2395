import type { Handler } from 'hono';
import type { Next, Policy } from '../core/compose.ts';
import { compose } from '../core/compose.ts';
import type { AiResult } from '../core/result.ts';
import { callContextOf } from './context.ts';
import { setResult } from './result.ts';

/**
 * A terminal handler that runs `call` (the upstream request) inside `policies`. Use it for policies
 * that must call upstream more than once (retries, fallbacks): Hono's `next()` runs only once, so
 * those live here, around the call itself, rather than in `app.use()` position.
 *
 * @example
 * app.post('/v1/chat/completions', aiHandler((ctx) => callProvider(ctx), [breaker]));
 */
export function aiHandler(call: Next<AiResult>, policies: readonly Policy<AiResult>[] = []): Handler {
  const chain = compose(...policies);
  return async function aiHandler(c) {
    const ctx = await callContextOf(c);
    setResult(c, await chain.execute(ctx, call));
    return c.res;
  };
}
