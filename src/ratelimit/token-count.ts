/**
 * Token counting with bounded work, so an estimate never holds the event loop.
 *
 * gpt-tokenizer's BPE merges one word at a time in time that grows with the square of the word's
 * length (a one-word 128 KiB prompt took 9 s), and even ordinary text costs 0.1–1 ms per KiB. So:
 * - the tokenizer is never handed more than `MAX_PIECE_CHARS` at once: longer text is cut just before
 *   a word's leading space when there is one in the second half of the piece (exact: the tokenizer
 *   splits there too), else hard (a word cut in two costs about one token more), never inside a
 *   surrogate pair;
 * - a `TokenCounter` (one per request) tokenizes at most `EXACT_CHARS` characters or `EXACT_TOKENS`
 *   tokens, whichever comes first, and estimates the rest from samples and its length, never below
 *   `MIN_TOKENS_PER_CHAR`.
 * A reservation need not be exact: settlement on the provider's reported usage corrects it. Accuracy
 * on normal text (prose, code, JSON) is pinned in test/ratelimit/tokens.test.ts: -5% … +20% from
 * 1 KiB to 1 MiB (a few KiB: exact, or within ~2% where a long run without a space was cut).
 */

/** Longest string handed to the tokenizer at once (bounds one call's BPE work). */
export const MAX_PIECE_CHARS = 128;
/** Characters a counter tokenizes at most. */
export const EXACT_CHARS = 32_768;
/**
 * Tokens a counter tokenizes at most. The tokenizer's cost follows the tokens it produces (1–2 µs each
 * for text it has not seen, such as random CJK or emoji): 2048 keep an estimate within a few ms.
 */
export const EXACT_TOKENS = 2048;
/** ~4 characters per token (OpenAI's rule of thumb for English): the least density assumed for the rest. */
export const MIN_TOKENS_PER_CHAR = 0.25;

/**
 * Characters per sampled window of a string longer than the budget: one piece. More, smaller windows
 * for the same tokens spread over more of the text: on this repo's README, sources and lockfile the
 * lowest ratio to the exact count went from 0.934 (256-char windows) to 0.961, the highest 1.116 → 1.116.
 */
const SAMPLE_CHARS = MAX_PIECE_CHARS;

/** 0 … count-1 in bit-reversed order (0, ½, ¼, ¾, …): every prefix is spread over the whole range. */
function* spreadOrder(count: number): Generator<number> {
  let bits = 0;
  while (1 << bits < count) bits++;
  for (let i = 0; i < 1 << bits; i++) {
    let reversed = 0;
    for (let b = 0; b < bits; b++) if (i & (1 << b)) reversed |= 1 << (bits - 1 - b);
    if (reversed < count) yield reversed;
  }
}

/** Exact counts of recent strings: system prompts and tool definitions repeat across requests. */
const CACHE_ENTRIES = 4096;
/** Characters the cache may hold in all (≤ 8 MiB), so it stays small whatever the strings' size. */
const CACHE_CHARS = 1 << 22;
const cache = new Map<string, number>();
let cachedChars = 0;

let encoder: ((text: string) => number) | undefined;

/** Count with `countTokens` from now on (`undefined`: estimate everything from length). */
export function useEncoder(countTokens: ((text: string) => number) | undefined): void {
  encoder = countTokens;
  cache.clear();
  cachedChars = 0;
}

/** True once counts come from the tokenizer. */
export function hasEncoder(): boolean {
  return encoder !== undefined;
}

/**
 * A copy that shares no memory with `text`. V8 substrings (slices, regex matches) keep their parent
 * string alive, and gpt-tokenizer caches 100,000 words as it met them: a slice of a 1 MiB prompt
 * there would keep the whole prompt in memory.
 */
function detached(text: string): string {
  return Buffer.from(text, 'utf16le').toString('utf16le');
}

const isSpace = (code: number) => code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;

/**
 * Where the piece of `text` that starts at `start` ends: at most `limit` characters on, just before
 * the last space that starts a word (the tokenizer's pieces begin there, so the cut changes nothing),
 * else hard.
 */
function pieceEnd(text: string, start: number, limit: number): number {
  const end = start + limit;
  if (end >= text.length) return text.length;
  // A bounded scan back (lastIndexOf would run to the start of a long string without spaces).
  for (let at = end; at > start + limit / 2; at--) {
    if (text.charCodeAt(at) === 0x20 && !isSpace(text.charCodeAt(at + 1))) return at;
  }
  const last = text.charCodeAt(end - 1);
  const highSurrogate = last >= 0xd800 && last <= 0xdbff;
  return highSurrogate && end - 1 > start ? end - 1 : end; // keep a surrogate pair together
}

function remember(text: string, tokens: number): void {
  if (cache.has(text)) return;
  while (cache.size >= CACHE_ENTRIES || cachedChars + text.length > CACHE_CHARS) {
    const oldest = cache.keys().next().value as string;
    cache.delete(oldest);
    cachedChars -= oldest.length;
  }
  cache.set(detached(text), tokens);
  cachedChars += text.length;
}

/**
 * Tokens of the strings of one request (or one answer): exact up to its budget, then estimated.
 * Each string is counted on its own (tokens never span two strings): from its start until it ends or
 * half of what is left of the budget is spent; if it goes on, the other half goes to windows spread
 * over the rest of it, whose density estimates that rest (a prefix says little about the rest of a
 * long document). Strings after the budget are estimated at the density of everything counted.
 */
export class TokenCounter {
  #charsLeft = EXACT_CHARS;
  #tokensLeft = EXACT_TOKENS;
  #countedChars = 0;
  #countedTokens = 0;
  /** Estimated tokens of the unsampled rest of long strings (fractional). */
  #estimatedTokens = 0;
  /** Characters estimated at the density of everything counted. */
  #uncountedChars = 0;

  /** Add one string. */
  add(text: string): this {
    if (text.length === 0) return this;
    if (encoder === undefined || this.#charsLeft <= 0 || this.#tokensLeft <= 0) {
      this.#uncountedChars += text.length;
      return this;
    }
    // A cached string counts exactly as counting it again would (same budget taken), so an estimate
    // depends on the request only, never on what the process saw before.
    const cached = text.length <= this.#charsLeft / 2 ? cache.get(text) : undefined;
    if (cached !== undefined && cached <= this.#tokensLeft / 2) {
      this.#take(text.length, cached);
      return this;
    }
    const before = this.#countedTokens;
    const prefix = this.#countRange(text, 0, text.length, this.#charsLeft / 2, this.#tokensLeft / 2);
    if (prefix === text.length) remember(text, this.#countedTokens - before);
    else this.#sampleRest(text, prefix);
    return this;
  }

  /** Add `chars` characters that are not at hand (estimated at the density of everything counted). */
  addUncounted(chars: number): this {
    this.#uncountedChars += chars;
    return this;
  }

  /** Tokens so far: those counted plus the estimate for the rest. */
  get tokens(): number {
    const density = this.#countedChars > 0 ? this.#countedTokens / this.#countedChars : 0;
    const uncounted = this.#uncountedChars * Math.max(density, MIN_TOKENS_PER_CHAR);
    return this.#countedTokens + Math.ceil(this.#estimatedTokens + uncounted);
  }

  /**
   * Count windows spread over `text` from `from` on with what is left of the budget, visited in an
   * order whose every prefix covers the whole rest (for when the tokens run out first).
   */
  #sampleRest(text: string, from: number): void {
    const rest = text.length - from;
    const size = Math.min(SAMPLE_CHARS, this.#charsLeft);
    const windows = size > 0 ? Math.min(Math.floor(this.#charsLeft / size), Math.floor(rest / size)) : 0;
    const stride = windows > 1 ? (rest - size) / (windows - 1) : 0;
    let chars = 0;
    const before = this.#countedTokens;
    for (const index of spreadOrder(windows)) {
      if (this.#tokensLeft <= 0) break;
      const start = from + Math.floor(index * stride);
      chars += this.#countRange(text, start, start + size, size, this.#tokensLeft);
    }
    if (chars === 0) {
      this.#uncountedChars += rest;
      return;
    }
    const density = Math.max((this.#countedTokens - before) / chars, MIN_TOKENS_PER_CHAR);
    this.#estimatedTokens += (rest - chars) * density;
  }

  /**
   * Count `text[start, end)` piece by piece until it ends or `chars` / `tokens` of the budget are
   * spent; returns the characters counted.
   */
  #countRange(text: string, start: number, end: number, chars: number, tokens: number): number {
    const charsStop = this.#charsLeft - chars;
    const tokensStop = this.#tokensLeft - tokens;
    let at = start;
    while (at < end && this.#charsLeft > charsStop && this.#tokensLeft > tokensStop) {
      const limit = Math.min(MAX_PIECE_CHARS, end - at, Math.ceil(this.#charsLeft - charsStop));
      const stop = pieceEnd(text, at, limit);
      this.#take(stop - at, encoder!(detached(text.slice(at, stop))));
      at = stop;
    }
    return at - start;
  }

  #take(chars: number, tokens: number): void {
    this.#charsLeft -= chars;
    this.#tokensLeft -= tokens;
    this.#countedChars += chars;
    this.#countedTokens += tokens;
  }
}
