import type { TokenUsage } from '../core/result.ts';

/**
 * Token estimates for limits, from a real BPE tokenizer (gpt-tokenizer, o200k_base: the GPT-4o/4.1
 * family encoding; other providers' tokenizers differ by a few percent, and settlement on the
 * provider's reported usage corrects the difference after the call).
 */

/** Chat framing per the OpenAI cookbook ("How to count tokens with tiktoken"): 3 per message, 3 to prime the reply. */
const TOKENS_PER_MESSAGE = 3;
const TOKENS_PER_NAME = 1;
const REPLY_PRIMING = 3;
/** A low-detail image costs 85 tokens in OpenAI's vision pricing; used for any non-text part. */
const TOKENS_PER_NON_TEXT_PART = 85;

/** Encodings of recent strings: system prompts and conversation prefixes repeat across requests. */
const CACHE_LIMIT = 4096;
const CACHEABLE_LENGTH = 32_768;
const cache = new Map<string, number>();

/** ~4 characters per token: OpenAI's rule of thumb, used only until the tokenizer has loaded. */
const roughCount = (text: string) => Math.ceil(text.length / 4);
let countTokens: (text: string) => number = roughCount;
let loading: Promise<void> | undefined;

/**
 * Load the BPE tokenizer (o200k_base: ~70 MB of tables once loaded) on first need rather than at
 * import, so code that never limits tokens never pays for it. The limit policies await it before their
 * first estimate; until it has loaded, counts use ~4 characters per token.
 */
export function loadTokenizer(): Promise<void> {
  loading ??= import('gpt-tokenizer').then((tokenizer) => {
    countTokens = tokenizer.countTokens;
    cache.clear();
  });
  return loading;
}

/** True once counts come from the real tokenizer. */
export function tokenizerLoaded(): boolean {
  return countTokens !== roughCount;
}

/** Tokens in a string, cached (bounded, oldest evicted first). */
export function countText(text: string): number {
  if (text.length === 0) return 0;
  if (text.length > CACHEABLE_LENGTH) return countTokens(text);
  const cached = cache.get(text);
  if (cached !== undefined) return cached;
  const count = countTokens(text);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(text, count);
  return count;
}

function countContent(content: unknown): number {
  if (typeof content === 'string') return countText(content);
  if (!Array.isArray(content)) return content == null ? 0 : countText(JSON.stringify(content));
  let total = 0;
  for (const part of content) {
    if (typeof part === 'string') total += countText(part);
    else if (part && typeof part === 'object') {
      const text = (part as Record<string, unknown>).text;
      total += typeof text === 'string' ? countText(text) : TOKENS_PER_NON_TEXT_PART;
    }
  }
  return total;
}

function countMessages(messages: unknown[]): number {
  let total = REPLY_PRIMING;
  for (const message of messages) {
    if (!message || typeof message !== 'object') continue;
    const { content, name, tool_calls, function_call } = message as Record<string, unknown>;
    total += TOKENS_PER_MESSAGE + 1 + countContent(content); // role: one token
    if (typeof name === 'string') total += TOKENS_PER_NAME + countText(name);
    if (tool_calls !== undefined) total += countText(JSON.stringify(tool_calls));
    if (function_call !== undefined) total += countText(JSON.stringify(function_call));
  }
  return total;
}

/** Prompt tokens of a request: chat `messages` (+ Anthropic `system`), `prompt`, or embeddings `input`, plus tool definitions. */
export function estimateInputTokens(request: Readonly<Record<string, unknown>>): number {
  let total = 0;
  const { messages, system, prompt, input, tools, functions } = request;
  if (Array.isArray(messages)) total += countMessages(messages);
  if (system !== undefined) total += countContent(system);
  if (prompt !== undefined) total += countContent(prompt);
  if (input !== undefined) total += countContent(input);
  if (tools !== undefined) total += countText(JSON.stringify(tools));
  if (functions !== undefined) total += countText(JSON.stringify(functions));
  return total;
}

/** The most output tokens the request allows (`max_completion_tokens`, `max_tokens`), else `fallback`. */
export function maxOutputTokens(request: Readonly<Record<string, unknown>>, fallback: number): number {
  const value = request.max_completion_tokens ?? request.max_tokens ?? request.max_output_tokens;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback;
}

/** What a call is expected to cost before it runs: prompt tokens plus the allowed output. */
export interface TokenEstimate {
  readonly input: number;
  readonly output: number;
}

export function estimateTokens(
  request: Readonly<Record<string, unknown>>,
  defaultOutputTokens: number,
): TokenEstimate {
  return { input: estimateInputTokens(request), output: maxOutputTokens(request, defaultOutputTokens) };
}

/** Text an OpenAI-style body or chunk carries (`choices[].message.content` or `.delta.content`). */
export function outputTextOf(value: unknown): string | undefined {
  const choices = (value as Record<string, unknown> | null | undefined)?.choices;
  if (!Array.isArray(choices)) return undefined;
  let text: string | undefined;
  for (const choice of choices) {
    const holder =
      (choice as Record<string, unknown> | null)?.delta ??
      (choice as Record<string, unknown> | null)?.message;
    const content = (holder as Record<string, unknown> | undefined)?.content;
    if (typeof content === 'string') text = text === undefined ? content : text + content;
  }
  return text;
}

/** Tokens a call actually used: the provider's usage when reported, else the estimated prompt plus counted output. */
export function actualTokens(
  usage: TokenUsage | undefined,
  estimate: TokenEstimate,
  outputText: string,
): number {
  if (usage) return usage.inputTokens + usage.outputTokens;
  return estimate.input + countText(outputText);
}
