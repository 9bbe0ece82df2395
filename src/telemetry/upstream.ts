import type { Attributes, MeterProvider, Span, TracerProvider } from '@opentelemetry/api';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { CallContext } from '../core/context.ts';
import { errorTypeOf } from '../core/errors.ts';
import type { AiResult, TokenUsage } from '../core/result.ts';
import { isSuccess, observeStream } from '../core/result.ts';
import { captureMessageContent } from './content.ts';
import { getInstruments } from './instruments.ts';
import { modelLabel, providerLabel, tierLabel } from './labels.ts';
import { inputMessages, outputMessages } from './messages.ts';
import { costOf } from './prices.ts';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_STREAM,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_GEN_AI_REQUEST_TOP_P,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_TOKEN_TYPE,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_PROVIDER,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_TIER,
  GEN_AI_TOKEN_TYPE_INPUT,
  GEN_AI_TOKEN_TYPE_OUTPUT,
} from './semconv.ts';
import { getTracer } from './spans.ts';

export interface UpstreamTelemetryOptions {
  /** Host of the provider endpoint (server.address). */
  serverAddress?: string;
  serverPort?: number;
  tracerProvider?: TracerProvider;
  meterProvider?: MeterProvider;
}

/**
 * Run one upstream attempt inside a CLIENT span named `{operation} {model}` (GenAI semconv), and
 * record `gen_ai.client.*` metrics and `alchemist.cost` for it. Streams are observed as they flow: the
 * span ends, and time-to-first-chunk and usage are recorded, when the stream does.
 */
export async function traceUpstreamCall(
  ctx: CallContext,
  options: UpstreamTelemetryOptions,
  call: (ctx: CallContext) => Promise<AiResult>,
): Promise<AiResult> {
  ctx.decisions.upstreamAttempts++;
  const span = startClientSpan(ctx, options);
  // Retries and fallbacks of one request: which resend this attempt is (HTTP client semconv).
  if (ctx.decisions.upstreamAttempts > 1) {
    span.setAttribute(ATTR_HTTP_REQUEST_RESEND_COUNT, ctx.decisions.upstreamAttempts - 1);
  }
  const startedAt = performance.now();
  const metricAttributes: Attributes = {
    [ATTR_GEN_AI_OPERATION_NAME]: ctx.operation,
    [ATTR_GEN_AI_PROVIDER_NAME]: providerLabel.get(ctx.genAiProvider),
    [ATTR_GEN_AI_REQUEST_MODEL]: modelLabel.get(ctx.model),
  };
  if (options.serverAddress) metricAttributes[ATTR_SERVER_ADDRESS] = options.serverAddress;
  const done = (outcome: { usage?: TokenUsage; responseModel?: string; error?: unknown; output?: unknown }) =>
    finish(ctx, options, span, startedAt, metricAttributes, outcome);

  let result: AiResult;
  try {
    result = await context.with(trace.setSpan(context.active(), span), () => call(ctx));
  } catch (error) {
    done({ error });
    throw error;
  }
  if (result.kind === 'json') {
    const error = isSuccess(result) ? undefined : new Error(String(result.status));
    const { wire } = ctx;
    if (span.isRecording()) {
      span.setAttributes(
        responseAttributes(
          wire.responseId(result.body),
          wire.responseModel(result.body),
          wire.finishReasons(result.body),
        ),
      );
    }
    done({
      usage: wire.usage(result.body),
      responseModel: wire.responseModel(result.body),
      error,
      output: result.body,
    });
    return result;
  }

  const reader = ctx.wire.streamReader();
  let firstChunkAt = 0;
  let lastChunkAt = 0;
  let chunkCount = 0;
  const chunks = observeStream(
    result.chunks,
    (chunk, index) => {
      lastChunkAt = performance.now();
      chunkCount = index + 1;
      if (index === 0) {
        firstChunkAt = lastChunkAt;
        getInstruments(options.meterProvider).timeToFirstChunk.record(
          (firstChunkAt - startedAt) / 1000,
          metricAttributes,
        );
      }
      reader.read(chunk);
    },
    ({ complete, error }) => {
      if (span.isRecording()) {
        span.setAttributes(responseAttributes(reader.responseId, reader.responseModel, reader.finishReasons));
      }
      if (complete && chunkCount > 1) {
        getInstruments(options.meterProvider).timePerOutputChunk.record(
          (lastChunkAt - firstChunkAt) / 1000 / (chunkCount - 1),
          metricAttributes,
        );
      }
      done({
        usage: reader.usage,
        responseModel: reader.responseModel,
        error: complete ? undefined : (error ?? cancelled()),
      });
    },
  );
  return { ...result, chunks };
}

function cancelled(): Error {
  const error = new Error('stream cancelled by the consumer');
  error.name = 'Cancelled';
  return error;
}

function startClientSpan(ctx: CallContext, options: UpstreamTelemetryOptions): Span {
  const attributes: Attributes = {
    [ATTR_GEN_AI_OPERATION_NAME]: ctx.operation,
    [ATTR_GEN_AI_PROVIDER_NAME]: ctx.genAiProvider,
    [ATTR_PROVIDER]: ctx.provider,
    [ATTR_GEN_AI_REQUEST_MODEL]: ctx.model,
    [ATTR_GEN_AI_REQUEST_STREAM]: ctx.stream,
  };
  if (options.serverAddress) attributes[ATTR_SERVER_ADDRESS] = options.serverAddress;
  if (options.serverPort) attributes[ATTR_SERVER_PORT] = options.serverPort;
  const { max_tokens, max_completion_tokens, temperature, top_p } = ctx.request;
  const maxTokens = max_completion_tokens ?? max_tokens;
  if (typeof maxTokens === 'number') attributes[ATTR_GEN_AI_REQUEST_MAX_TOKENS] = maxTokens;
  if (typeof temperature === 'number') attributes[ATTR_GEN_AI_REQUEST_TEMPERATURE] = temperature;
  if (typeof top_p === 'number') attributes[ATTR_GEN_AI_REQUEST_TOP_P] = top_p;
  if (captureMessageContent() && ctx.request.messages !== undefined) {
    attributes[ATTR_GEN_AI_INPUT_MESSAGES] = JSON.stringify(inputMessages(ctx.request.messages));
  }
  const parent = trace.setSpan(context.active(), ctx.span);
  return getTracer(options.tracerProvider).startSpan(
    `${ctx.operation} ${ctx.model}`,
    { kind: SpanKind.CLIENT, attributes },
    parent,
  );
}

function responseAttributes(
  id: string | undefined,
  model: string | undefined,
  finishReasons: readonly string[],
): Attributes {
  const attributes: Attributes = {};
  if (id !== undefined) attributes[ATTR_GEN_AI_RESPONSE_ID] = id;
  if (model !== undefined) attributes[ATTR_GEN_AI_RESPONSE_MODEL] = model;
  if (finishReasons.length > 0) attributes[ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = [...finishReasons];
  return attributes;
}

function finish(
  ctx: CallContext,
  options: UpstreamTelemetryOptions,
  span: Span,
  startedAt: number,
  metricAttributes: Attributes,
  outcome: { usage?: TokenUsage; responseModel?: string; error?: unknown; output?: unknown },
): void {
  try {
    const instruments = getInstruments(options.meterProvider);
    const attributes: Attributes = { ...metricAttributes };
    if (outcome.responseModel) attributes[ATTR_GEN_AI_RESPONSE_MODEL] = modelLabel.get(outcome.responseModel);
    if (outcome.error !== undefined) {
      const errorType = errorTypeOf(outcome.error);
      attributes[ATTR_ERROR_TYPE] = errorType;
      span.setAttribute(ATTR_ERROR_TYPE, errorType);
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorType });
    }
    instruments.operationDuration.record((performance.now() - startedAt) / 1000, attributes);
    const { usage } = outcome;
    if (usage) {
      ctx.decisions.usage = usage;
      span.setAttributes({
        [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: usage.inputTokens,
        [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: usage.outputTokens,
      });
      instruments.tokenUsage.record(usage.inputTokens, {
        ...attributes,
        [ATTR_GEN_AI_TOKEN_TYPE]: GEN_AI_TOKEN_TYPE_INPUT,
      });
      instruments.tokenUsage.record(usage.outputTokens, {
        ...attributes,
        [ATTR_GEN_AI_TOKEN_TYPE]: GEN_AI_TOKEN_TYPE_OUTPUT,
      });
      const cost = costOf(outcome.responseModel ?? ctx.model, usage);
      if (cost > 0) {
        instruments.cost.add(cost, {
          [ATTR_GEN_AI_PROVIDER_NAME]: metricAttributes[ATTR_GEN_AI_PROVIDER_NAME],
          [ATTR_GEN_AI_REQUEST_MODEL]: metricAttributes[ATTR_GEN_AI_REQUEST_MODEL],
          [ATTR_TIER]: tierLabel.get(ctx.tier),
        });
      }
    }
    if (captureMessageContent() && outcome.output && span.isRecording()) {
      const choices = (outcome.output as Record<string, unknown>).choices;
      if (Array.isArray(choices)) {
        span.setAttribute(ATTR_GEN_AI_OUTPUT_MESSAGES, JSON.stringify(outputMessages(choices)));
      }
    }
  } catch {
    // Telemetry never breaks the call.
  } finally {
    span.end();
  }
}
