import type { CallContext, RequestCacheControl } from '../core/context.ts';
import { parseCacheControl } from '../core/context.ts';
import type { CallOptions } from '../wrap/wrap.ts';
import { headerOf } from './headers.ts';

/** What one SDK call learned while it ran: the provider's response, and its call context. */
export interface CallState {
  response?: Response;
  ctx?: CallContext;
}

/** The per-call options an SDK adapter's wrapped call receives. */
export interface SdkCallOptions<RequestOptions> extends CallOptions {
  requestOptions: RequestOptions | undefined;
  state: CallState;
}

/** A started SDK call: what the adapter hands the SDK's own promise and stream. */
export interface StartedSdkCall<Result> {
  /** Cancels the call (the SDK's stream holds it as its `controller`). */
  readonly controller: AbortController;
  /** The caller's signal joined with `controller`'s. */
  readonly signal: AbortSignal;
  readonly state: CallState;
  readonly startTime: number;
  readonly running: Promise<Result>;
}

/**
 * How every SDK adapter starts a call: one AbortController the SDK's own stream can cancel (joined with
 * the caller's signal), the call's state, the request's `Cache-Control` from the SDK's headers, and the
 * wrapped call run with them.
 */
export function startSdkCall<
  Params,
  Result,
  RequestOptions extends { signal?: AbortSignal | null; headers?: unknown },
>(
  run: (params: Params, options: SdkCallOptions<RequestOptions>) => Promise<Result>,
  params: Params,
  requestOptions: RequestOptions | undefined,
  onContext: ((ctx: CallContext) => void) | undefined,
): StartedSdkCall<Result> {
  const controller = new AbortController();
  const callerSignal = requestOptions?.signal ?? undefined;
  const signal = callerSignal ? AbortSignal.any([callerSignal, controller.signal]) : controller.signal;
  const state: CallState = {};
  const startTime = Date.now();
  const header = headerOf(requestOptions?.headers, 'cache-control');
  const cacheControl: RequestCacheControl | undefined = header ? parseCacheControl(header) : undefined;
  const running = run(params, {
    signal,
    requestOptions,
    state,
    ...(cacheControl ? { cacheControl } : {}),
    onContext(ctx) {
      state.ctx = ctx;
      onContext?.(ctx);
    },
  });
  return { controller, signal, state, startTime, running };
}
