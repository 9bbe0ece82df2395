import { describe, expect, it } from 'vitest';
import { aiCachePolicy } from '../../src/cache/policy.ts';
import type { CallContext } from '../../src/core/context.ts';
import { withCache } from '../../src/wrap/cache.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';

useTestTelemetry();

type Req = { model: string; messages: { role: string; content: string }[]; stream?: boolean };
const ask = (content: string, stream = false): Req => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content }],
  ...(stream ? { stream } : {}),
});

describe('withCache', () => {
  it('answers repeated calls from the cache and hands out copies callers may change', async () => {
    let calls = 0;
    const create = withCache(async (request: Req) => ({
      id: `c-${++calls}`,
      model: request.model,
      choices: [{ message: { content: request.messages[0]?.content } }],
    }));
    const first = await create(ask('hi'));
    let ctx: CallContext | undefined;
    const second = await create(ask('hi'), { onContext: (c) => (ctx = c) });
    expect(second).toEqual(first);
    expect(ctx?.decisions.cacheResult).toBe('hit');
    expect(ctx?.decisions.upstreamAttempts).toBe(0);
    second.choices[0]!.message.content = 'changed';
    expect((await create(ask('hi'))).choices[0]?.message.content).toBe('hi');
    expect(calls).toBe(1);
  });

  it('keeps streams as async iterables, recorded then replayed', async () => {
    let calls = 0;
    const create = withCache(async function* stream(_request: Req) {
      calls++;
      yield { choices: [{ delta: { content: 'a' } }] };
      yield { choices: [{ delta: { content: 'b' } }], usage: { prompt_tokens: 1, completion_tokens: 2 } };
    } as unknown as (request: Req) => Promise<AsyncIterable<unknown>>);
    const collect = async (iterable: AsyncIterable<unknown>) => {
      const out: unknown[] = [];
      for await (const chunk of iterable) out.push(chunk);
      return out;
    };
    const live = await collect(await create(ask('s', true)));
    const replay = await collect(await create(ask('s', true)));
    expect(replay).toEqual(live);
    expect(replay).toHaveLength(2);
    expect(calls).toBe(1);
  });

  it('isolates tenants given per call, and shares one policy across wrappers', async () => {
    const cache = aiCachePolicy();
    let calls = 0;
    const fn = async (request: Req) => ({ n: ++calls, q: request.messages[0]?.content });
    const a = withCache(fn, { cache });
    const b = withCache(fn, { cache });
    await a(ask('t'), { tenant: 'one' });
    expect(await b(ask('t'), { tenant: 'one' })).toEqual({ n: 1, q: 't' });
    expect(await a(ask('t'), { tenant: 'two' })).toEqual({ n: 2, q: 't' });
    expect(cache.stats().requests).toMatchObject({ hit: 1, miss: 2 });
  });
});

describe('withCache stream copies', () => {
  it('a caller changing chunks as it reads them does not change what is stored', async () => {
    const create = withCache(async function* stream(_request: Req) {
      yield { choices: [{ delta: { content: 'original' } }] };
    } as unknown as (request: Req) => Promise<AsyncIterable<{ choices: { delta: { content: string } }[] }>>);
    for await (const chunk of await create(ask('mutate', true))) chunk.choices[0]!.delta.content = 'changed';
    const replay: unknown[] = [];
    for await (const chunk of await create(ask('mutate', true))) replay.push(chunk);
    expect(replay).toEqual([{ choices: [{ delta: { content: 'original' } }] }]);
  });
});
