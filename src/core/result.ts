/**
 * What a call produced, in a shape every policy understands whatever the skin: a JSON body, or a
 * stream of parsed chunks (OpenAI `chat.completion.chunk` objects for the gateway). A stream is
 * complete when its iterator finishes without throwing; the SSE `[DONE]` sentinel is not a chunk.
 */
export interface JsonResult {
  readonly kind: 'json';
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface StreamResult {
  readonly kind: 'stream';
  readonly status: number;
  readonly chunks: AsyncIterable<unknown>;
  readonly headers?: Readonly<Record<string, string>>;
}

export type AiResult = JsonResult | StreamResult;

export interface TokenUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

export function jsonResult(body: unknown, status = 200, headers?: Record<string, string>): JsonResult {
  return headers ? { kind: 'json', status, body, headers } : { kind: 'json', status, body };
}

export function streamResult(
  chunks: AsyncIterable<unknown>,
  status = 200,
  headers?: Record<string, string>,
): StreamResult {
  return headers ? { kind: 'stream', status, chunks, headers } : { kind: 'stream', status, chunks };
}

export function isSuccess(result: AiResult): boolean {
  return result.status >= 200 && result.status < 300;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * Token usage from an OpenAI body or chunk (`usage.prompt_tokens`/`completion_tokens`), or an
 * Anthropic one (`usage.input_tokens`/`output_tokens`). Undefined when the value carries none.
 */
export function usageOf(value: unknown): TokenUsage | undefined {
  const usage = asRecord(asRecord(value)?.usage);
  if (!usage) return undefined;
  const input = count(usage.prompt_tokens) ?? count(usage.input_tokens);
  const output = count(usage.completion_tokens) ?? count(usage.output_tokens);
  if (input === undefined && output === undefined) return undefined;
  return { inputTokens: input ?? 0, outputTokens: output ?? 0 };
}

/** The model the provider says answered (`model` on the body or chunk). */
export function responseModelOf(value: unknown): string | undefined {
  const model = asRecord(value)?.model;
  return typeof model === 'string' ? model : undefined;
}

/** How a stream ended, for its observers. */
export interface StreamEnd {
  /** The source finished; false when it threw or the consumer stopped early. */
  readonly complete: boolean;
  readonly error?: unknown;
  readonly chunks: number;
}

type ChunkObserver = (chunk: unknown, index: number) => void;
type EndObserver = (outcome: StreamEnd) => void;

/**
 * A stream's one observer: every policy that needs to see chunks (upstream telemetry, settlement,
 * the request's end) adds its callbacks here instead of wrapping the stream in a generator of its own.
 */
class ObservedStream implements AsyncIterableIterator<unknown> {
  readonly #source: AsyncIterable<unknown>;
  #iterator: AsyncIterator<unknown> | undefined;
  readonly #onChunk: ChunkObserver[] = [];
  readonly #onEnd: EndObserver[] = [];
  #started = false;

  constructor(source: AsyncIterable<unknown>) {
    this.#source = source;
  }

  /** Add observers; false once iteration started (they would miss chunks). */
  observe(onChunk: ChunkObserver | undefined, onEnd: EndObserver | undefined): boolean {
    if (this.#started) return false;
    if (onChunk) this.#onChunk.push(onChunk);
    if (onEnd) this.#onEnd.push(onEnd);
    return true;
  }

  // Also an iterator itself, as the async generator a stream used to be: `next()` and `return()` drive
  // one iteration shared with `for await`.
  next(): Promise<IteratorResult<unknown>> {
    this.#iterator ??= this.#iterate();
    return this.#iterator.next();
  }

  async return(value?: unknown): Promise<IteratorResult<unknown>> {
    this.#iterator ??= this.#iterate();
    return (await this.#iterator.return?.(value)) ?? { done: true, value };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<unknown> {
    return this;
  }

  #iterate(): AsyncIterator<unknown> {
    this.#started = true;
    const source = this.#source[Symbol.asyncIterator]();
    const onChunk = this.#onChunk;
    const onEnd = this.#onEnd;
    let index = 0;
    let ended = false;
    const end = (complete: boolean, error?: unknown) => {
      if (ended) return;
      ended = true;
      const outcome: StreamEnd =
        error === undefined ? { complete, chunks: index } : { complete, error, chunks: index };
      for (const observer of onEnd) safely(() => observer(outcome));
    };
    return {
      async next() {
        if (ended) return { done: true, value: undefined };
        let step: IteratorResult<unknown>;
        try {
          step = await source.next();
        } catch (error) {
          end(false, error);
          throw error;
        }
        if (step.done) {
          end(true);
          return step;
        }
        for (const observer of onChunk) safely(() => observer(step.value, index));
        index++;
        return step;
      },
      async return(value?: unknown) {
        try {
          await source.return?.(value);
        } finally {
          end(false);
        }
        return { done: true, value };
      },
    };
  }
}

/**
 * Pass a stream's chunks through while observing them. `onEnd` runs once: with `complete: true` when
 * the source finished, false when it threw or the consumer stopped early. Observers never throw into
 * the stream. Observing an already observed stream that nobody reads yet adds to its one observer
 * (no new wrapper), so a stream through every policy is still iterated by a single loop.
 */
export function observeStream(
  chunks: AsyncIterable<unknown>,
  onChunk?: ChunkObserver,
  onEnd?: EndObserver,
): AsyncIterable<unknown> {
  if (chunks instanceof ObservedStream && chunks.observe(onChunk, onEnd)) return chunks;
  const observed = new ObservedStream(chunks);
  observed.observe(onChunk, onEnd);
  return observed;
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // An observer's bug must not break the caller's stream.
  }
}
