import { BadRequestError } from '../core/errors.ts';

/** Deepest JSON nesting accepted. Real chat requests (tools, JSON schemas) stay far below it. */
export const MAX_JSON_DEPTH = 64;

/** Nesting depth of a parsed JSON value, iteratively (a deep value must not overflow our stack). */
export function jsonDepth(value: unknown, limit = Number.POSITIVE_INFINITY): number {
  if (typeof value !== 'object' || value === null) return 0;
  let deepest = 0;
  // Two parallel stacks of containers only (no tuple per node, no entry per string or number):
  // this runs on every gateway request.
  const containers: object[] = [value];
  const depths: number[] = [1];
  while (containers.length > 0) {
    const current = containers.pop()!;
    const depth = depths.pop()!;
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return deepest;
    const children: unknown[] = Array.isArray(current) ? current : Object.values(current);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) {
        containers.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return deepest;
}

/**
 * Gateway-side request checks before the policies see the body (`aiContext({ validate })`): bounded
 * nesting (a 20,000-level array parses, but re-serialising it for the cache key or the upstream would
 * overflow the stack), and a non-empty `messages` array (what every chat provider requires). Invalid
 * JSON and a missing model are `aiContext()`'s own 400s.
 */
export function validateChatRequest(body: Record<string, unknown>): void {
  if (jsonDepth(body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new BadRequestError(`Request body nests deeper than ${MAX_JSON_DEPTH} levels`, 'too_deep');
  }
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new BadRequestError("'messages' must be a non-empty array", 'invalid_messages');
  }
  for (const [index, message] of messages.entries()) {
    const role = (message as Record<string, unknown> | null)?.role;
    if (typeof message !== 'object' || message === null || typeof role !== 'string') {
      throw new BadRequestError(
        `messages[${index}] must be an object with a string 'role'`,
        'invalid_messages',
      );
    }
  }
}

function checkDepth(body: Record<string, unknown>): void {
  if (jsonDepth(body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new BadRequestError(`Request body nests deeper than ${MAX_JSON_DEPTH} levels`, 'too_deep');
  }
}

const isTokenList = (value: unknown) => Array.isArray(value) && value.every((item) => Number.isInteger(item));

/** `POST /v1/embeddings`: `input` a string, a token list, or a non-empty list of either; `dimensions`; `encoding_format`. */
export function validateEmbeddingsRequest(body: Record<string, unknown>): void {
  checkDepth(body);
  const { input, dimensions, encoding_format: format } = body;
  const valid =
    (typeof input === 'string' && input !== '') ||
    (Array.isArray(input) &&
      input.length > 0 &&
      (isTokenList(input) ||
        input.every((item) => (typeof item === 'string' && item !== '') || isTokenList(item))));
  if (!valid) {
    throw new BadRequestError(
      "'input' must be a non-empty string, a list of token ids, or a non-empty list of strings or token lists",
      'invalid_input',
    );
  }
  if (dimensions !== undefined && (!Number.isInteger(dimensions) || (dimensions as number) < 1)) {
    throw new BadRequestError("'dimensions' must be a positive integer", 'invalid_dimensions');
  }
  if (format !== undefined && format !== 'float' && format !== 'base64') {
    throw new BadRequestError("'encoding_format' must be 'float' or 'base64'", 'invalid_encoding_format');
  }
  if (body.stream === true) throw new BadRequestError('Embeddings do not stream', 'invalid_stream');
}

/** `POST /v1/responses`: `input` a string or a list of items; `previous_response_id` or `conversation`, not both. */
export function validateResponsesRequest(body: Record<string, unknown>): void {
  checkDepth(body);
  const { input } = body;
  if (input === undefined && body.prompt === undefined && body.previous_response_id === undefined) {
    throw new BadRequestError("'input' is required (a string or a list of input items)", 'invalid_input');
  }
  if (input !== undefined && typeof input !== 'string' && !Array.isArray(input)) {
    throw new BadRequestError("'input' must be a string or a list of input items", 'invalid_input');
  }
  if (Array.isArray(input)) {
    for (const [index, item] of input.entries()) {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) {
        throw new BadRequestError(`input[${index}] must be an object`, 'invalid_input');
      }
    }
  }
  if (body.previous_response_id !== undefined && body.conversation !== undefined) {
    throw new BadRequestError(
      "'previous_response_id' and 'conversation' cannot be used together",
      'invalid_request',
    );
  }
}

/** `POST /v1/completions` (legacy): a `prompt` string, or a list of strings or token ids. */
export function validateCompletionsRequest(body: Record<string, unknown>): void {
  checkDepth(body);
  const { prompt } = body;
  const valid =
    typeof prompt === 'string' ||
    (Array.isArray(prompt) &&
      prompt.length > 0 &&
      (isTokenList(prompt) || prompt.every((item) => typeof item === 'string' || isTokenList(item))));
  if (!valid) {
    throw new BadRequestError(
      "'prompt' must be a string, or a non-empty list of strings or token ids",
      'invalid_prompt',
    );
  }
}

/**
 * `POST /v1/messages` (Anthropic): `max_tokens` a positive integer (required by the API), `messages` a
 * non-empty list of `user`/`assistant` turns with string or block content, `system` a string or text blocks.
 */
export function validateMessagesRequest(body: Record<string, unknown>): void {
  checkDepth(body);
  if (!Number.isInteger(body.max_tokens) || (body.max_tokens as number) < 1) {
    throw new BadRequestError(
      "'max_tokens' is required and must be a positive integer",
      'invalid_max_tokens',
    );
  }
  const { messages, system } = body;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new BadRequestError("'messages' must be a non-empty array", 'invalid_messages');
  }
  for (const [index, message] of messages.entries()) {
    const fields = message as Record<string, unknown> | null;
    if (
      typeof fields !== 'object' ||
      fields === null ||
      !['user', 'assistant', 'system'].includes(fields.role as string)
    ) {
      throw new BadRequestError(`messages[${index}].role must be 'user' or 'assistant'`, 'invalid_messages');
    }
    if (typeof fields.content !== 'string' && !Array.isArray(fields.content)) {
      throw new BadRequestError(
        `messages[${index}].content must be a string or an array of blocks`,
        'invalid_messages',
      );
    }
  }
  if (system !== undefined && typeof system !== 'string' && !Array.isArray(system)) {
    throw new BadRequestError("'system' must be a string or an array of text blocks", 'invalid_system');
  }
}
