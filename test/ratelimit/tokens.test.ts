import { countTokens } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import { LocalBackend } from '../../src/ratelimit/local-backend.ts';
import {
  countText,
  estimateInputTokens,
  estimateTokens,
  loadTokenizer,
  maxOutputTokens,
} from '../../src/ratelimit/tokens.ts';
import { manualClock } from './helpers.ts';

await loadTokenizer();

describe('token estimation', () => {
  it('counts chat messages with the real tokenizer plus the documented framing', () => {
    const messages = [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Name three primary colours.', name: 'bob' },
    ];
    const expected =
      3 + // reply priming
      (3 + 1 + countTokens('You are terse.')) +
      (3 + 1 + countTokens('Name three primary colours.') + 1 + countTokens('bob'));
    expect(estimateInputTokens({ messages })).toBe(expected);
    expect(countText('hello world')).toBe(countTokens('hello world'));
  });

  it('counts text parts, images, Anthropic system, tools, prompts and embeddings input', () => {
    const parts = [
      { type: 'text', text: 'describe' },
      { type: 'image_url', image_url: { url: 'x' } },
    ];
    expect(estimateInputTokens({ messages: [{ role: 'user', content: parts }] })).toBe(
      3 + 4 + countTokens('describe') + 85,
    );
    expect(estimateInputTokens({ system: 'be brief', messages: [] })).toBe(3 + countTokens('be brief'));
    expect(estimateInputTokens({ prompt: 'once upon' })).toBe(countTokens('once upon'));
    expect(estimateInputTokens({ input: ['a b', 'c'] })).toBe(countTokens('a b') + countTokens('c'));
    const tools = [{ type: 'function', function: { name: 'f' } }];
    expect(estimateInputTokens({ tools })).toBe(countTokens(JSON.stringify(tools)));
  });

  it('reserves max_completion_tokens, then max_tokens, then the default', () => {
    expect(maxOutputTokens({ max_completion_tokens: 5, max_tokens: 9 }, 100)).toBe(5);
    expect(maxOutputTokens({ max_tokens: 9 }, 100)).toBe(9);
    expect(maxOutputTokens({}, 100)).toBe(100);
    expect(estimateTokens({ prompt: 'x', max_tokens: 7 }, 100)).toEqual({
      input: countTokens('x'),
      output: 7,
    });
  });
});

describe('LocalBackend', () => {
  it('refills exactly with the injected clock and never above capacity', () => {
    const clock = manualClock();
    const backend = new LocalBackend(clock);
    const spec = { capacity: 3, perWindow: 60, windowMs: 60_000 };
    const take = () => backend.acquire({ buckets: [{ key: 'k', spec, cost: 1 }] });
    expect([take(), take(), take(), take()].map((r) => r.allowed)).toEqual([true, true, true, false]);
    clock.advance(999);
    expect(take().allowed).toBe(false);
    clock.advance(1);
    expect(take()).toMatchObject({
      allowed: true,
      buckets: [{ remaining: 0, resetMs: 3000, retryMs: 1000 }],
    });
    clock.advance(3_600_000);
    expect(take().buckets[0]!.remaining).toBe(2);
  });

  it('takes all buckets or none', () => {
    const backend = new LocalBackend(manualClock());
    const small = { capacity: 1, perWindow: 1, windowMs: 60_000 };
    const big = { capacity: 10, perWindow: 10, windowMs: 60_000 };
    const request = {
      buckets: [
        { key: 'a', spec: big, cost: 1 },
        { key: 'b', spec: small, cost: 2 },
      ],
    };
    expect(backend.acquire(request)).toMatchObject({ allowed: false, denied: 'tier' });
    expect(backend.acquire({ buckets: [{ key: 'a', spec: big, cost: 10 }] }).allowed).toBe(true);
  });

  it('forgets full buckets once it holds many (bounded memory)', () => {
    const clock = manualClock();
    const backend = new LocalBackend(clock, 100);
    const spec = { capacity: 1, perWindow: 1, windowMs: 1000 };
    for (let i = 0; i < 100; i++) backend.acquire({ buckets: [{ key: `k${i}`, spec, cost: 1 }] });
    clock.advance(1000);
    backend.acquire({ buckets: [{ key: 'late', spec, cost: 1 }] });
    expect(backend.size).toBe(1);
  });
});
