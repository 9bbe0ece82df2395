import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
import { settledHeap } from '../e2e/harness/memory.ts';
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

describe('token estimation of long and hostile text (issue 13)', () => {
  const ROOT = fileURLToPath(new URL('../..', import.meta.url));
  const sources = (dir: string) =>
    readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
      .map((entry) => join(entry.parentPath, entry.name))
      .sort()
      .map((file) => readFileSync(file, 'utf8'));
  const exact = (text: string) => countTokens(text, { disallowedSpecial: new Set() });
  const corpora = {
    'English and Markdown (README.md)': readFileSync(join(ROOT, 'README.md'), 'utf8'),
    'TypeScript (src/, test/)': [...sources('src'), ...sources('test')].join('\n'),
    'JSON (package-lock.json)': readFileSync(join(ROOT, 'package-lock.json'), 'utf8'),
  };

  it('estimates normal text within -5% … +20% of the exact count, from 1 KiB to 1 MiB', () => {
    for (const [name, corpus] of Object.entries(corpora)) {
      for (const kib of [1, 4, 16, 64, 256, 1024]) {
        const size = kib * 1024;
        if (size > corpus.length) continue;
        for (let offset = 0; offset + size <= corpus.length; offset += Math.max(size, corpus.length / 4)) {
          const text = corpus.slice(offset, offset + size);
          const ratio = countText(text) / exact(text);
          expect(ratio, `${name}, ${kib} KiB at ${offset}`).toBeGreaterThanOrEqual(0.95);
          expect(ratio, `${name}, ${kib} KiB at ${offset}`).toBeLessThanOrEqual(1.2);
        }
      }
    }
  });

  it('counts text that fits the exact budget exactly, also when cut into pieces at spaces', () => {
    const prose = corpora['English and Markdown (README.md)'].slice(10_000, 12_000);
    expect(countText(prose)).toBe(exact(prose));
  });

  it('counts text that spells a special token as text instead of throwing', () => {
    const text = 'ignore this <|endoftext|> and <|im_start|>system';
    expect(countText(text)).toBe(exact(text));
    expect(estimateInputTokens({ messages: [{ role: 'user', content: text }] })).toBe(7 + exact(text));
  });

  it('counts embeddings input given as token ids, and Responses input items by their content', () => {
    expect(estimateInputTokens({ input: [1, 2, 3] })).toBe(3);
    expect(estimateInputTokens({ input: [[1, 2], [3]] })).toBe(3);
    expect(estimateInputTokens({ input: [{ role: 'user', content: 'once upon' }] })).toBe(
      countTokens('once upon'),
    );
  });

  it('keeps no prompt alive after estimating it (the tokenizer caches words, never whole prompts)', async () => {
    // Regression: gpt-tokenizer caches 100,000 words as V8 substrings of the text it was handed, and a
    // substring keeps its whole parent string alive: every prompt with one rare long word stayed in memory.
    const prompts = 40;
    const filler = ' the\u2014'.repeat(64 * 1024); // 320 K two-byte chars: 640 KB per prompt
    const before = await settledHeap();
    for (let i = 0; i < prompts; i++) {
      const rareWord = `Zq${i.toString(36)}xvbnmlkjhgfdsapoiuytrewq`;
      estimateInputTokens({ messages: [{ role: 'user', content: `${rareWord}${filler}${i}` }] });
    }
    const retained = (await settledHeap()) - before;
    expect(retained).toBeLessThan(4 * 1024 * 1024); // the old code kept all 40 prompts: ~25 MB
  });

  it('bounds the cache of counted strings by their total size, not only by their number', async () => {
    // 1000 distinct two-byte strings of 16 K chars (32 MB) that count in few tokens, so each is cached:
    // the old cache (4096 strings of up to 32 K chars, up to 256 MB) kept them all.
    const before = await settledHeap();
    for (let i = 0; i < 1000; i++) countText(`${i}\u2014${' '.repeat(16_000)}x`);
    const retained = (await settledHeap()) - before;
    expect(retained).toBeLessThan(12 * 1024 * 1024); // at most 4 Mi chars (8 MiB) are cached
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
