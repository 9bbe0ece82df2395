import type { MeterProvider } from '@opentelemetry/api';
import { trackRequest } from '../telemetry/request.ts';
import { openAiErrorBody } from '../wire/openai-chat.ts';
import type { Next, Policy } from './compose.ts';
import { compose } from './compose.ts';
import type { CallContext } from './context.ts';
import { decisionHeaders } from './decisions.ts';
import { isAlchemistError, renderErrorsAs } from './errors.ts';
import type { AiResult } from './result.ts';
import { observeStream } from './result.ts';

/** Ends a request where its skin records it (the request span): the answer's status, and the failure. */
export type RequestEnd = (status: number, error?: unknown) => void;

/** More response headers, from the context once the policies ran. */
export type HeaderSource = (ctx: CallContext) => Record<string, string> | undefined;

export interface RequestPipelineInit {
  readonly ctx: CallContext;
  /** Called once when the request ends: at the answer, or when its stream ends. @default nothing */
  readonly end?: RequestEnd;
  /** Headers every answer and every error of this request carries (e.g. `traceparent`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Record `alchemist.requests.active` and `alchemist.request.duration`. @default true */
  readonly metrics?: boolean;
  readonly meterProvider?: MeterProvider;
}

/**
 * One request's way through the policies, the same for every skin (Hono middleware, `aiHandler()`,
 * the function wrappers). A skin turns its input into a call context once and opens a pipeline; Hono
 * middleware in `app.use()` position `add()` their policy to it; the skin's terminal `run()`s every
 * policy around the call in one pass. The pipeline owns the request's end: the request metrics, the
 * skin's `end` (its span) once the answer is known or its stream ends, and the headers the decisions
 * put on the answer and on an error (`headers()`). The skin renders the result once, at its edge.
 */
export class RequestPipeline {
  readonly ctx: CallContext;
  readonly #policies: Policy<AiResult>[] = [];
  readonly #headerSources: HeaderSource[] = [];
  readonly #init: RequestPipelineInit;
  readonly #tracked: ReturnType<typeof trackRequest> | undefined;
  #state: 'open' | 'running' | 'ended' = 'open';
  #failure: unknown;

  constructor(init: RequestPipelineInit) {
    this.ctx = init.ctx;
    this.#init = init;
    this.#tracked = init.metrics === false ? undefined : trackRequest(init.ctx, init.meterProvider);
  }

  /**
   * Add a policy, inside the ones added before it (only before the pipeline runs), and optionally
   * more answer headers computed from the context once it ran.
   */
  add(policy: Policy<AiResult>, headers?: HeaderSource): void {
    if (this.#state !== 'open') throw new Error(`Policy '${policy.name}' was added after the request ran`);
    this.#policies.push(policy);
    if (headers) this.#headerSources.push(headers);
  }

  /** Whether `run()` has started: a policy middleware behind another skin's run must not run it again. */
  get started(): boolean {
    return this.#state !== 'open';
  }

  /** Whether the request has ended (its answer or error is known; a stream may still be flowing). */
  get ended(): boolean {
    return this.#state === 'ended';
  }

  /** The error the request ended with, if it failed. */
  get failure(): unknown {
    return this.#failure;
  }

  /**
   * Run the added policies, then `inner` (the skin's own, composed once where the skin is made),
   * around `call`. The request ends with the result (a stream when it ends) or with the error thrown,
   * which carries the decisions' headers.
   */
  async run(call: Next<AiResult>, inner?: Policy<AiResult>): Promise<AiResult> {
    this.#state = 'running';
    const added = this.#policies;
    const chain = added.length === 0 ? inner : compose(...added, ...(inner ? [inner] : []));
    let result: AiResult;
    try {
      result = chain ? await chain.execute(this.ctx, call) : await call(this.ctx);
    } catch (error) {
      this.fail(error);
      throw error;
    }
    return this.finish(result);
  }

  /**
   * End the request with a result a handler produced without `run()` (or `run()` returned): JSON ends
   * it now, a stream when the stream ends. Returns the result to render (its stream observed).
   */
  finish(result: AiResult): AiResult {
    if (this.#state === 'ended') return result;
    this.#state = 'ended';
    const { end } = this.#init;
    if (result.kind === 'json') {
      this.#tracked?.succeed(result);
      end?.(result.status);
      return result;
    }
    const tracked = this.#tracked?.streamEnd();
    const chunks = observeStream(result.chunks, undefined, ({ complete, error }) => {
      tracked?.(complete, error);
      end?.(result.status, complete ? undefined : error);
    });
    return { ...result, chunks };
  }

  /** End the request with an error: it gets the answer's headers; metrics and span record it once. */
  fail(error: unknown): void {
    if (isAlchemistError(error)) {
      Object.assign(error.headers, this.headers());
      if (this.ctx.wire.errorBody !== openAiErrorBody) renderErrorsAs(error, this.ctx.wire.errorBody);
    }
    if (this.#state === 'ended') return;
    this.#state = 'ended';
    this.#failure = error;
    this.#tracked?.fail(error);
    this.#init.end?.(isAlchemistError(error) ? error.status : 500, error);
  }

  /** Headers for the answer: what the policies decided (RateLimit, Cache-Status, Server-Timing) and the skin's. */
  headers(): Record<string, string> {
    const headers = decisionHeaders(this.ctx.decisions);
    for (const source of this.#headerSources) Object.assign(headers, source(this.ctx));
    const extra = this.#init.headers;
    if (extra) for (const name in extra) headers[name] = extra[name]!;
    return headers;
  }
}
