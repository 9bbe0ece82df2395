import type { SimulatedReply } from './reply.ts';

/** A tool call the simulated model makes: the first tool offered, with arguments from its schema. */
export interface SimulatedToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: Record<string, unknown>;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

/** Arguments that satisfy a JSON schema's properties: a word for strings, 1 for numbers, true for booleans. */
function argumentsFor(schema: unknown, reply: SimulatedReply): Record<string, unknown> {
  const properties = record(record(schema)?.properties) ?? {};
  const args: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(properties)) {
    const type = record(property)?.type;
    if (type === 'string') args[name] = reply.words[0]?.trim().replace(/\.$/, '') ?? 'value';
    else if (type === 'number' || type === 'integer') args[name] = 1;
    else if (type === 'boolean') args[name] = true;
  }
  return args;
}

/**
 * The call the model makes when the request offers tools and the conversation does not end with a
 * tool's result yet (after a result, the model answers in text): deterministic, like the replies.
 * `tool` reads a tool's name and parameter schema from one API's tool shape.
 */
export function simulatedToolCall(
  tools: unknown,
  answered: boolean,
  reply: SimulatedReply,
  tool: (entry: Record<string, unknown>) => { name: unknown; schema: unknown },
): SimulatedToolCall | undefined {
  if (answered || !Array.isArray(tools)) return undefined;
  for (const entry of tools) {
    const fields = record(entry);
    if (!fields) continue;
    const { name, schema } = tool(fields);
    if (typeof name === 'string' && name !== '') {
      return { id: reply.id.slice(0, 12), name, arguments: argumentsFor(schema, reply) };
    }
  }
  return undefined;
}
