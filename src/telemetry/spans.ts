import type { Attributes, Span, Tracer, TracerProvider } from '@opentelemetry/api';
import { trace } from '@opentelemetry/api';
import { SEMCONV_SCHEMA_URL } from './semconv.ts';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.ts';

/** The tracer for this package's instrumentation scope (global provider unless one is injected). */
export function getTracer(tracerProvider: TracerProvider = trace.getTracerProvider()): Tracer {
  return tracerProvider.getTracer(PACKAGE_NAME, PACKAGE_VERSION, { schemaUrl: SEMCONV_SCHEMA_URL });
}

/**
 * Put a policy's decision on the request span as attributes. Costs nothing when the span is not
 * recording; never throws into the call.
 */
export function setSpanAttributes(span: Span, attributes: Attributes): void {
  if (!span.isRecording()) return;
  try {
    span.setAttributes(attributes);
  } catch {
    // Telemetry never breaks the call.
  }
}

/** Record a decision as a span event (e.g. `alchemist.retry`, `alchemist.circuit_breaker.transition`). */
export function addSpanEvent(span: Span, name: string, attributes?: Attributes): void {
  if (!span.isRecording()) return;
  try {
    span.addEvent(name, attributes);
  } catch {
    // Telemetry never breaks the call.
  }
}
