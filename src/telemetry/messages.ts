/**
 * Chat messages in the GenAI semconv content shape (`gen_ai.input.messages` / `gen_ai.output.messages`,
 * JSON schemas gen-ai-input-messages.json and gen-ai-output-messages.json): `{role, parts[]}` where a part
 * is `text {content}`, `tool_call {id, name, arguments}`, `tool_call_response {id, response}` or
 * `uri {modality, uri}`. Recorded only on opt-in (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT).
 */

type Part = Record<string, unknown> & { type: string };
interface Message {
  role: string;
  parts: Part[];
  finish_reason?: string;
}

/** Parsed tool-call arguments when they are JSON (the schema types them `any`), else the raw string. */
function argumentsOf(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function contentParts(content: unknown): Part[] {
  if (typeof content === 'string') return [{ type: 'text', content }];
  if (!Array.isArray(content)) return [];
  const parts: Part[] = [];
  for (const item of content) {
    const part = item as Record<string, unknown> | null;
    if (part?.type === 'text' && typeof part.text === 'string')
      parts.push({ type: 'text', content: part.text });
    else if (part?.type === 'image_url') {
      const url = (part.image_url as { url?: unknown } | undefined)?.url;
      if (typeof url === 'string') parts.push({ type: 'uri', modality: 'image', uri: url });
    } else if (part && typeof part.type === 'string') parts.push({ type: part.type });
  }
  return parts;
}

function toolCallParts(toolCalls: unknown): Part[] {
  if (!Array.isArray(toolCalls)) return [];
  return toolCalls.map((call) => {
    const { id, function: fn } = call as { id?: unknown; function?: { name?: unknown; arguments?: unknown } };
    return { type: 'tool_call', id, name: fn?.name, arguments: argumentsOf(fn?.arguments) };
  });
}

/** One OpenAI chat message as a semconv message. */
function fromChatMessage(message: unknown): Message {
  const { role, content, tool_calls, tool_call_id } = (message ?? {}) as Record<string, unknown>;
  const name = typeof role === 'string' ? role : 'unknown';
  if (name === 'tool') {
    return { role: 'tool', parts: [{ type: 'tool_call_response', id: tool_call_id, response: content }] };
  }
  return { role: name, parts: [...contentParts(content), ...toolCallParts(tool_calls)] };
}

/** `gen_ai.input.messages` for an OpenAI chat request's `messages`. */
export function inputMessages(messages: unknown): Message[] {
  return Array.isArray(messages) ? messages.map(fromChatMessage) : [];
}

/** `gen_ai.output.messages` for an OpenAI chat answer's `choices`. */
export function outputMessages(choices: unknown): Message[] {
  if (!Array.isArray(choices)) return [];
  return choices.map((choice) => {
    const { message, finish_reason } = (choice ?? {}) as { message?: unknown; finish_reason?: unknown };
    const out = fromChatMessage(message ?? { role: 'assistant' });
    return typeof finish_reason === 'string' ? { ...out, finish_reason } : out;
  });
}
