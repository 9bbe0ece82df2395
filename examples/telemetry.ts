/**
 * Start the OTel SDK once in an app that uses the middleware (the gateway does this itself).
 */
import { setupTelemetry } from '../src/telemetry/index.ts';

// Prometheus on :9464 (OTEL_EXPORTER_PROMETHEUS_PORT), OTLP if OTEL_EXPORTER_OTLP_ENDPOINT is set.
const telemetry = await setupTelemetry({ serviceName: 'my-api' });
console.log(`metrics on http://127.0.0.1:${telemetry.prometheusPort}/metrics`);
process.on('SIGTERM', () => telemetry.shutdown()); // flushes spans and metrics
