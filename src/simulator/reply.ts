import { createHash } from 'node:crypto';

/** What the simulated model "says" for a prompt: deterministic, with exact token counts. */
export interface SimulatedReply {
  /** The reply, as words (each word counts as one output token; words after the first start with a space). */
  readonly words: readonly string[];
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** `stop`, or `length` when max_tokens cut the reply. */
  readonly truncated: boolean;
  /** A stable id derived from the prompt. */
  readonly id: string;
}

const VOCABULARY = (
  'the a model cache answer latency token stream request provider tenant budget circuit breaker ' +
  'limit queue window fallback retry upstream gateway metric trace span replay memory redis ' +
  'policy decision hit miss stale fresh quick steady careful simple bounded shared local remote ' +
  'result value signal deadline chunk reply prompt system user assistant context every once ' +
  'is was will can should might keeps serves records measures returns waits opens closes'
).split(' ');

/** Text of an OpenAI or Anthropic content field (string, or an array of text parts). */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => {
      const record = part as Record<string, unknown> | null;
      return typeof record?.text === 'string' ? record.text : '';
    })
    .join(' ');
}

/**
 * Input tokens for messages, with the usual rule of thumb (about 4 characters per token, OpenAI's
 * tokenizer guide) plus the per-message framing OpenAI documents for chat formats (3 tokens each,
 * 3 for the reply primer).
 */
export function countInputTokens(messages: readonly unknown[], system?: unknown): number {
  let tokens = 3;
  const add = (text: string) => {
    tokens += 3 + Math.ceil(text.length / 4);
  };
  if (system !== undefined) add(textOf(system));
  for (const message of messages) add(textOf((message as Record<string, unknown> | null)?.content));
  return tokens;
}

/**
 * The reply to a prompt: 12 to 47 words chosen by SHA-256 of the model and messages, so the same
 * request always gets the same answer and different prompts get different ones.
 */
export function simulateReply(
  model: string,
  messages: readonly unknown[],
  maxTokens: number | undefined,
  system?: unknown,
): SimulatedReply {
  const seed = createHash('sha256')
    .update(model)
    .update('\0')
    .update(JSON.stringify(system ?? null))
    .update('\0')
    .update(JSON.stringify(messages))
    .digest();
  const full = 12 + (seed[0]! % 36);
  const length = maxTokens !== undefined && maxTokens > 0 ? Math.min(full, maxTokens) : full;
  const words: string[] = [];
  let block = seed;
  for (let i = 0; i < length; i++) {
    if (i > 0 && i % 31 === 0) block = createHash('sha256').update(block).digest();
    const word = VOCABULARY[block[(i % 31) + 1]! % VOCABULARY.length]!;
    words.push(i === 0 ? word[0]!.toUpperCase() + word.slice(1) : ` ${word}`);
  }
  if (words.length > 0 && length === full) words[words.length - 1] += '.';
  return {
    words,
    inputTokens: countInputTokens(messages, system),
    outputTokens: words.length,
    truncated: length < full,
    id: seed.subarray(8, 20).toString('hex'),
  };
}
