import { describe, expect, it, vi } from 'vitest';
import { codePoints, seededRandom, randomText as textOf } from '../../bench/text.ts';
import { EXACT_CHARS, MAX_PIECE_CHARS } from '../../src/ratelimit/token-count.ts';
import { estimateInputTokens, loadTokenizer } from '../../src/ratelimit/tokens.ts';

// Regression (issue 13, item 1): one 1 MiB single-word prompt pinned the event loop for minutes,
// because BPE work grows with the square of a word's length. Here the real tokenizer is wrapped to
// record what it is handed: no call gets more than MAX_PIECE_CHARS and no estimate more than
// EXACT_CHARS in all, whatever the input's size or shape. (Time per KiB: `node bench/tokens.ts`.)
const handed: number[] = [];
vi.mock('gpt-tokenizer', async (importOriginal) => {
  const real = await importOriginal<typeof import('gpt-tokenizer')>();
  return {
    ...real,
    countTokens: (text: string, options?: Parameters<typeof real.countTokens>[1]) => {
      handed.push(text.length);
      // Fail fast instead of hanging for minutes on the code this test pins.
      if (text.length > MAX_PIECE_CHARS) throw new Error(`tokenizer handed ${text.length} chars at once`);
      return real.countTokens(text, options);
    },
  };
});

await loadTokenizer();

const MiB = 1 << 20;
const random = seededRandom(13);
const randomText = (length: number, alphabet: readonly string[]) => textOf(length, alphabet, random);
const range = codePoints;

const user = (content: unknown) => ({ messages: [{ role: 'user', content }] });
const hostile: Record<string, () => Record<string, unknown>> = {
  'one huge word': () => user('A'.repeat(MiB)),
  'one huge random word': () => user(randomText(MiB, range(97, 26))),
  'many tiny words': () => user('a '.repeat(MiB / 2)),
  'CJK without spaces': () => user(randomText(MiB, range(0x4e00, 20_000))),
  'emoji without spaces': () => user(randomText(MiB, range(0x1f300, 700))),
  'one whitespace run': () => user(' '.repeat(MiB)),
  'one punctuation run': () => user('!?'.repeat(MiB / 2)),
  'a repeated pattern': () => user('abc123<|endoftext|>'.repeat(MiB / 19)),
  'content parts': () => user(Array.from({ length: 4096 }, () => ({ type: 'text', text: 'B'.repeat(256) }))),
  'many messages': () => ({
    messages: Array.from({ length: 32_768 }, (_, i) => ({ role: 'user', content: `m${i}`.padEnd(32, 'x') })),
  }),
  'tool definitions': () => ({
    messages: [{ role: 'user', content: 'hi' }],
    tools: [{ type: 'function', function: { name: 'f', description: 'D'.repeat(MiB) } }],
  }),
  'system, prompt and input': () => ({
    system: 'S'.repeat(MiB),
    prompt: 'P'.repeat(MiB),
    input: ['I'.repeat(MiB)],
  }),
};

describe('token estimation work is bounded (issue 13 #1)', () => {
  for (const [shape, request] of Object.entries(hostile)) {
    it(`${shape}, 1 MiB: small pieces, at most ${EXACT_CHARS} chars tokenized, and still an estimate`, () => {
      const body = request();
      handed.length = 0;
      const tokens = estimateInputTokens(body);
      expect(Math.max(...handed)).toBeLessThanOrEqual(MAX_PIECE_CHARS);
      expect(handed.reduce((sum, n) => sum + n, 0)).toBeLessThanOrEqual(EXACT_CHARS);
      // Whatever was not tokenized is still reserved: at least 1 token per 4 characters, or the
      // density of the part that was counted.
      expect(tokens).toBeGreaterThanOrEqual(Math.floor(JSON.stringify(body).length / 8));
    });
  }

  it('tokenizes no more of 1 MiB than of 64 KiB of the same text (work does not grow with size)', () => {
    const tokenized = (size: number) => {
      handed.length = 0;
      estimateInputTokens(user('lorem ipsum dolor sit amet '.repeat(size / 27)));
      return handed.reduce((sum, n) => sum + n, 0);
    };
    const small = tokenized(64 * 1024);
    expect(small).toBeGreaterThan(EXACT_CHARS / 4);
    expect(tokenized(MiB)).toBeLessThanOrEqual(small + MAX_PIECE_CHARS);
  });
});
