/**
 * Message content (prompts and completions) is recorded only when
 * OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true, as in opentelemetry-js-contrib's GenAI
 * instrumentations. Read per call so tests and operators can flip it without a restart.
 */
export function captureMessageContent(): boolean {
  return process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT?.trim().toLowerCase() === 'true';
}

/** Header names whose values never reach a span, a metric or a log. */
export const SECRET_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'cookie',
  'set-cookie',
]);
