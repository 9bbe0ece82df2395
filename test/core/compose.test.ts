import { describe, expect, it } from 'vitest';
import type { Policy } from '../../src/core/compose.ts';
import { compose } from '../../src/core/compose.ts';
import { createCallContext } from '../../src/core/context.ts';
import type { AiResult } from '../../src/core/result.ts';
import { jsonResult } from '../../src/core/result.ts';

function recording(name: string, log: string[]): Policy<AiResult> {
  return {
    name,
    async execute(ctx, next) {
      log.push(`${name}:before`);
      const result = await next(ctx);
      log.push(`${name}:after`);
      return result;
    },
  };
}

describe('compose', () => {
  it('runs policies outermost first and unwinds in reverse', async () => {
    const log: string[] = [];
    const chain = compose(recording('limit', log), recording('cache', log), recording('breaker', log));
    const ctx = createCallContext({ provider: 'openai', model: 'gpt-4o' });
    const result = await chain.execute(ctx, async () => {
      log.push('call');
      return jsonResult({ ok: true });
    });
    expect(result).toEqual(jsonResult({ ok: true }));
    expect(log).toEqual([
      'limit:before',
      'cache:before',
      'breaker:before',
      'call',
      'breaker:after',
      'cache:after',
      'limit:after',
    ]);
    expect(chain.name).toBe('limit>cache>breaker');
  });

  it('threads one AbortSignal to the call, and a policy may narrow it', async () => {
    const outer = new AbortController();
    const seen: AbortSignal[] = [];
    const timeout: Policy<AiResult> = {
      name: 'timeout',
      execute(ctx, next) {
        seen.push(ctx.signal);
        return next({ ...ctx, signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(60_000)]) });
      },
    };
    const observer: Policy<AiResult> = {
      name: 'observer',
      execute(ctx, next) {
        seen.push(ctx.signal);
        return next(ctx);
      },
    };
    const ctx = createCallContext({ provider: 'openai', model: 'm', signal: outer.signal });
    let callSignal: AbortSignal | undefined;
    await compose(timeout, observer).execute(ctx, async (inner) => {
      callSignal = inner.signal;
      return jsonResult(null);
    });
    expect(seen[0]).toBe(outer.signal);
    expect(seen[1]).toBe(callSignal);
    outer.abort(new Error('caller left'));
    expect(callSignal?.aborted).toBe(true);
  });

  it('propagates errors from the call through every policy', async () => {
    const log: string[] = [];
    const chain = compose(recording('a', log), recording('b', log));
    const ctx = createCallContext({ provider: 'openai', model: 'm' });
    await expect(chain.execute(ctx, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(log).toEqual(['a:before', 'b:before']);
  });

  it('with no policies calls through', async () => {
    const ctx = createCallContext({ provider: 'openai', model: 'm' });
    expect(await compose().execute(ctx, async () => jsonResult(1))).toEqual(jsonResult(1));
  });
});
