import type { SimEvent } from './openai.ts';
import type { SimulatedReply } from './reply.ts';
import { simulateReply } from './reply.ts';
import { type SimulatedToolCall, simulatedToolCall } from './tools.ts';

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

/** Why a Responses request is invalid, or undefined. */
export function validateResponses(body: Record<string, unknown>): string | undefined {
  if (typeof body.model !== 'string' || body.model === '') return 'you must provide a model parameter';
  if (typeof body.input !== 'string' && !Array.isArray(body.input)) {
    return "'input' must be a string or an array of input items";
  }
  if (body.previous_response_id !== undefined && body.conversation !== undefined) {
    return "'previous_response_id' cannot be used together with 'conversation'";
  }
  return undefined;
}

/** The input as chat-like messages, which the reply is derived from (`function_call_output` → a tool turn). */
function inputMessages(input: unknown): unknown[] {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  return (input as unknown[]).map((item) => {
    const fields = record(item);
    if (fields?.type === 'function_call_output')
      return { role: 'tool', content: String(fields.output ?? '') };
    if (fields?.type === 'function_call')
      return { role: 'assistant', content: String(fields.arguments ?? '') };
    return { role: fields?.role ?? 'user', content: fields?.content };
  });
}

interface Simulated {
  readonly reply: SimulatedReply;
  readonly call: SimulatedToolCall | undefined;
}

/** The model's reply to a Responses request: a function call when tools are offered and not yet answered. */
export function simulateResponses(body: Record<string, unknown>): Simulated {
  const messages = inputMessages(body.input);
  const context = [
    ...(typeof body.previous_response_id === 'string'
      ? [{ role: 'system', content: body.previous_response_id }]
      : []),
    ...messages,
  ];
  const max = typeof body.max_output_tokens === 'number' ? body.max_output_tokens : undefined;
  const reply = simulateReply(body.model as string, context, max, body.instructions);
  const answered = Array.isArray(body.input) && record(body.input.at(-1))?.type === 'function_call_output';
  const call = simulatedToolCall(body.tools, answered, reply, (tool) => ({
    name: tool.type === 'function' ? tool.name : undefined,
    schema: tool.parameters,
  }));
  return { reply, call };
}

function messageItem(reply: SimulatedReply, status: 'in_progress' | 'completed') {
  const text = reply.words.join('');
  return {
    type: 'message',
    id: `msg_sim${reply.id}`,
    role: 'assistant',
    status,
    content: status === 'completed' ? [{ type: 'output_text', text, annotations: [], logprobs: [] }] : [],
  };
}

function callItem(call: SimulatedToolCall, status: 'in_progress' | 'completed') {
  return {
    type: 'function_call',
    id: `fc_sim${call.id}`,
    call_id: `call_sim${call.id}`,
    name: call.name,
    arguments: status === 'completed' ? JSON.stringify(call.arguments) : '',
    status,
  };
}

function responseObject(
  body: Record<string, unknown>,
  { reply, call }: Simulated,
  created: number,
  done: boolean,
) {
  const status = !done ? 'in_progress' : reply.truncated && !call ? 'incomplete' : 'completed';
  return {
    id: `resp_sim${reply.id}`,
    object: 'response',
    created_at: created,
    status,
    model: body.model,
    output: !done ? [] : [call ? callItem(call, 'completed') : messageItem(reply, 'completed')],
    error: null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: body.instructions ?? null,
    metadata: body.metadata ?? {},
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    store: body.store ?? true,
    temperature: body.temperature ?? null,
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    top_p: body.top_p ?? null,
    usage: !done
      ? null
      : {
          input_tokens: reply.inputTokens,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: reply.outputTokens,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: reply.inputTokens + reply.outputTokens,
        },
  };
}

/** A Responses API `response` object. https://platform.openai.com/docs/api-reference/responses/object */
export function responsesAnswer(body: Record<string, unknown>, simulated: Simulated, created: number) {
  return responseObject(body, simulated, created, true);
}

/**
 * The Responses streaming sequence, every event named after its type and numbered:
 * `response.created`, `response.in_progress`, `response.output_item.added`, then for text
 * `content_part.added`, `output_text.delta`…, `output_text.done`, `content_part.done` (for a call
 * `function_call_arguments.delta`/`.done`), `output_item.done`, and `response.completed`
 * (`response.incomplete` when max_output_tokens cut it).
 */
export function responsesStream(
  body: Record<string, unknown>,
  simulated: Simulated,
  created: number,
  wordsPerChunk: number,
): SimEvent[] {
  const { reply, call } = simulated;
  const events: SimEvent[] = [];
  const push = (type: string, fields: Record<string, unknown>) =>
    events.push({ event: type, data: { type, sequence_number: events.length, ...fields } });
  const final = responseObject(body, simulated, created, true);
  push('response.created', { response: responseObject(body, simulated, created, false) });
  push('response.in_progress', { response: responseObject(body, simulated, created, false) });
  if (call) {
    const item = callItem(call, 'in_progress');
    const args = JSON.stringify(call.arguments);
    push('response.output_item.added', { output_index: 0, item });
    push('response.function_call_arguments.delta', { item_id: item.id, output_index: 0, delta: args });
    push('response.function_call_arguments.done', { item_id: item.id, output_index: 0, arguments: args });
    push('response.output_item.done', { output_index: 0, item: callItem(call, 'completed') });
  } else {
    const item = messageItem(reply, 'in_progress');
    const at = { item_id: item.id, output_index: 0, content_index: 0 };
    const text = reply.words.join('');
    push('response.output_item.added', { output_index: 0, item });
    push('response.content_part.added', { ...at, part: { type: 'output_text', text: '', annotations: [] } });
    for (let i = 0; i < reply.words.length; i += wordsPerChunk) {
      push('response.output_text.delta', {
        ...at,
        delta: reply.words.slice(i, i + wordsPerChunk).join(''),
        logprobs: [],
      });
    }
    push('response.output_text.done', { ...at, text, logprobs: [] });
    push('response.content_part.done', { ...at, part: { type: 'output_text', text, annotations: [] } });
    push('response.output_item.done', { output_index: 0, item: messageItem(reply, 'completed') });
  }
  push(final.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response: final });
  return events;
}
