/** What a chat call through the gateway returned, read fully. */
export interface ChatReply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** Parsed JSON body, or undefined for SSE and non-JSON bodies. */
  readonly json: unknown;
  readonly ms: number;
}

export interface ChatOptions {
  /** Bearer key (`Authorization: Bearer <key>`). */
  key?: string;
  headers?: Record<string, string>;
  /** Abort after this many ms. @default 30000 */
  timeoutMs?: number;
}

/** A minimal OpenAI chat body with a deterministic prompt. */
export function chatBody(prompt: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }], ...extra };
}

/** POST `/v1/chat/completions` and read the whole answer (SSE included). */
export async function chat(baseUrl: string, body: unknown, options: ChatOptions = {}): Promise<ChatReply> {
  const started = performance.now();
  const response = await fetch(`${baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
      ...options.headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  const text = await response.text();
  let json: unknown;
  if ((response.headers.get('content-type') ?? '').includes('json')) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  return { status: response.status, headers: response.headers, text, json, ms: performance.now() - started };
}

/** The `error.code` of an OpenAI-style error body, if any. */
export function errorCode(reply: ChatReply): string | undefined {
  const error = (reply.json as { error?: { code?: unknown } } | undefined)?.error;
  return typeof error?.code === 'string' ? error.code : undefined;
}

/** Poll `check` until it is truthy or `timeoutMs` passes (bounded waits for e2e tests). */
export async function waitUntil<T>(
  check: () => Promise<T> | T,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
