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
