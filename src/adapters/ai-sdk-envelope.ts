import type { CallParams, GenerateResult, LanguageModel, StreamPart, Usage } from './ai-sdk-types.ts';
import { fromJsonSafe, toJsonSafe } from './json-safe.ts';

/**
 * AI SDK results travel through the policies in envelopes shaped like OpenAI bodies and chunks
 * (`usage.prompt_tokens`, `model`, `choices[].finish_reason`), so the shared telemetry reads token
 * usage, the response model and finish reasons from them, the rate limiter settles on actual usage,
 * and the cache stores them as JSON. The AI SDK value itself rides in `result`/`part`, JSON-safe.
 */
export interface GenerateEnvelope {
  readonly object: 'alchemist.ai_sdk.generate';
  readonly id?: string;
  readonly model?: string;
  readonly choices: readonly { finish_reason: string }[];
  readonly usage?: { prompt_tokens: number; completion_tokens: number };
  readonly result: unknown;
}

export interface PartEnvelope {
  readonly object: 'alchemist.ai_sdk.part';
  readonly id?: string;
  readonly model?: string;
  readonly choices?: readonly { finish_reason: string }[];
  readonly usage?: { prompt_tokens: number; completion_tokens: number };
  readonly part: unknown;
}

function usageOf(usage: Usage | undefined): GenerateEnvelope['usage'] {
  const input = usage?.inputTokens.total;
  const output = usage?.outputTokens.total;
  if (input === undefined && output === undefined) return undefined;
  return { prompt_tokens: input ?? 0, completion_tokens: output ?? 0 };
}

export function encodeGenerate(result: GenerateResult): GenerateEnvelope {
  const usage = usageOf(result.usage);
  return {
    object: 'alchemist.ai_sdk.generate',
    ...(result.response?.id ? { id: result.response.id } : {}),
    ...(result.response?.modelId ? { model: result.response.modelId } : {}),
    choices: [{ finish_reason: result.finishReason.unified }],
    ...(usage ? { usage } : {}),
    result: toJsonSafe(result),
  };
}

export function decodeGenerate(envelope: unknown): GenerateResult {
  return fromJsonSafe((envelope as GenerateEnvelope).result) as GenerateResult;
}

export function encodePart(part: StreamPart): PartEnvelope {
  const base = { object: 'alchemist.ai_sdk.part' as const, part: toJsonSafe(part) };
  if (part.type === 'finish') {
    const usage = usageOf(part.usage);
    return { ...base, choices: [{ finish_reason: part.finishReason.unified }], ...(usage ? { usage } : {}) };
  }
  if (part.type === 'response-metadata') {
    return { ...base, ...(part.id ? { id: part.id } : {}), ...(part.modelId ? { model: part.modelId } : {}) };
  }
  return base;
}

export function decodePart(envelope: unknown): StreamPart {
  return fromJsonSafe((envelope as PartEnvelope).part) as StreamPart;
}

/** JSON-safe copy of a prompt (files may hold bytes or URLs), for the canonical request. */
function jsonPrompt(prompt: CallParams['prompt']): unknown {
  return toJsonSafe(prompt);
}

/**
 * The call in the canonical (OpenAI chat) shape the policies key and estimate from: AI SDK prompt
 * messages keep their parts (`{ type: 'text', text }` counts as text for token estimates), and every
 * setting that changes the answer is included. Headers and the abort signal are not: they never
 * change the answer, and headers may carry credentials.
 */
export function canonicalRequest(
  model: LanguageModel,
  params: CallParams,
  stream: boolean,
): Record<string, unknown> & { model: string } {
  return {
    model: model.modelId,
    messages: jsonPrompt(params.prompt),
    stream,
    max_tokens: params.maxOutputTokens,
    temperature: params.temperature,
    top_p: params.topP,
    top_k: params.topK,
    presence_penalty: params.presencePenalty,
    frequency_penalty: params.frequencyPenalty,
    stop: params.stopSequences,
    seed: params.seed,
    response_format: params.responseFormat === undefined ? undefined : toJsonSafe(params.responseFormat),
    tools: params.tools === undefined ? undefined : toJsonSafe(params.tools),
    tool_choice: params.toolChoice,
    reasoning: params.reasoning,
    include_raw_chunks: params.includeRawChunks,
    provider_options: params.providerOptions === undefined ? undefined : toJsonSafe(params.providerOptions),
  };
}
