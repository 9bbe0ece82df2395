import type { TokenUsage } from '../core/result.ts';
import { EXACT_CHARS, hasEncoder, TokenCounter, useEncoder } from './token-count.ts';

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

let loading: Promise<void> | undefined;

/**
 * Load the BPE tokenizer (o200k_base: ~70 MB of tables once loaded) on first need rather than at
 * import, so code that never limits tokens never pays for it. The limit policies await it before their
 * first estimate; until it has loaded, counts use ~4 characters per token.
 */
export function loadTokenizer(): Promise<void> {
  loading ??= import('gpt-tokenizer').then((tokenizer) => {
    // Text that spells a special token (`<|endoftext|>`) is ordinary text in a prompt, as providers
    // count it; gpt-tokenizer's default would throw on it.
    const asText = { disallowedSpecial: new Set<string>() };
    useEncoder((text) => tokenizer.countTokens(text, asText));
  });
  return loading;
}

/** True once counts come from the real tokenizer. */
export function tokenizerLoaded(): boolean {
  return hasEncoder();
}

/** Tokens in one string (exact up to a bounded budget, then estimated: see token-count.ts). */
export function countText(text: string): number {
  return new TokenCounter().add(text).tokens;
}

/**
 * Adds the text of a content field to `text`; returns the tokens of its other parts (85 per image or
 * other non-text part; one per token id, as embeddings `input` may be).
 */
function countContent(content: unknown, text: TokenCounter, nested = false): number {
  if (typeof content === 'string') {
    text.add(content);
    return 0;
  }
  if (!Array.isArray(content)) {
    if (content != null) text.add(JSON.stringify(content));
    return 0;
  }
  let other = 0;
  for (const part of content) {
    if (typeof part === 'string') text.add(part);
    else if (typeof part === 'number') other += 1;
    else if (Array.isArray(part)) other += part.length;
    else if (part && typeof part === 'object') {
      const { text: partText, content: partContent } = part as Record<string, unknown>;
      if (typeof partText === 'string') text.add(partText);
      // An input item of the Responses API holds a message's content (one level only).
      else if (partContent !== undefined && !nested) other += countContent(partContent, text, true);
      else other += TOKENS_PER_NON_TEXT_PART;
    }
  }
  return other;
}

/** Adds the text of chat messages to `text`; returns their framing tokens. */
function countMessages(messages: unknown[], text: TokenCounter): number {
  let framing = REPLY_PRIMING;
  for (const message of messages) {
    if (!message || typeof message !== 'object') continue;
    const { content, name, tool_calls, function_call } = message as Record<string, unknown>;
    framing += TOKENS_PER_MESSAGE + 1 + countContent(content, text); // role: one token
    if (typeof name === 'string') {
      framing += TOKENS_PER_NAME;
      text.add(name);
    }
    if (tool_calls !== undefined) text.add(JSON.stringify(tool_calls));
    if (function_call !== undefined) text.add(JSON.stringify(function_call));
  }
  return framing;
}

/**
 * Prompt tokens of a request: chat `messages` (+ Anthropic `system`), `prompt`, or embeddings `input`,
 * plus tool definitions. The work is bounded whatever the request's size: at most ~2048 tokens (32 KiB)
 * of its text are tokenized, the rest is estimated from samples and its length (see token-count.ts).
 */
export function estimateInputTokens(request: Readonly<Record<string, unknown>>): number {
  const text = new TokenCounter();
  let other = 0;
  const { messages, system, prompt, input, tools, functions } = request;
  if (Array.isArray(messages)) other += countMessages(messages, text);
  if (system !== undefined) other += countContent(system, text);
  if (prompt !== undefined) other += countContent(prompt, text);
  if (input !== undefined) other += countContent(input, text);
  if (tools !== undefined) text.add(JSON.stringify(tools));
  if (functions !== undefined) text.add(JSON.stringify(functions));
  return other + text.tokens;
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

/**
 * Output text of a call, for counting when the provider reports no usage. Keeps what a count reads
 * exactly (`EXACT_CHARS`) and only the length of the rest, so a long stream holds little memory.
 */
export class OutputText {
  readonly #parts: string[] = [];
  #kept = 0;
  #beyond = 0;

  append(text: string): void {
    if (this.#kept >= EXACT_CHARS) {
      this.#beyond += text.length;
      return;
    }
    this.#parts.push(text);
    this.#kept += text.length;
  }

  get tokens(): number {
    return new TokenCounter().add(this.#parts.join('')).addUncounted(this.#beyond).tokens;
  }
}

/** Tokens a call actually used: the provider's usage when reported, else the estimated prompt plus counted output. */
export function actualTokens(
  usage: TokenUsage | undefined,
  estimate: TokenEstimate,
  output: OutputText,
): number {
  if (usage) return usage.inputTokens + usage.outputTokens;
  return estimate.input + output.tokens;
}
