import type { GatewayProcess } from '../../helpers/gateway.ts';
import type { OtlpSink } from './otlp-sink.ts';
import type { ScannedText, SecretScanner } from './secrets.ts';

/** `/metrics` of every gateway still running (scrape before stopping them). */
export async function scrapeMetrics(gateways: readonly GatewayProcess[]): Promise<ScannedText[]> {
  const texts: ScannedText[] = [];
  for (const gateway of gateways) {
    if (gateway.exited) continue;
    try {
      texts.push({ source: `${gateway.name} /metrics`, text: await gateway.metrics() });
    } catch {
      // a gateway the test killed on purpose
    }
  }
  return texts;
}

/** Logs of the gateways and, when given, every OTLP export (spans, metrics) they sent to the sink. */
export function logsAndExports(gateways: readonly GatewayProcess[], sink?: OtlpSink): ScannedText[] {
  return [
    ...gateways.map((gateway) => ({ source: `${gateway.name} logs`, text: gateway.logs() })),
    ...(sink?.exports() ?? []).map((item, index) => ({
      source: `OTLP ${item.path} #${index}`,
      text: item.text,
    })),
  ];
}

/**
 * Stop gateways and gather everything they emitted: a last `/metrics` scrape (before stopping), then
 * their logs and, when given, the OTLP exports the sink received.
 */
export async function stopAndCollect(
  gateways: readonly (GatewayProcess | undefined)[],
  emitted: ScannedText[],
  sink?: OtlpSink,
): Promise<void> {
  const started = gateways.filter((gateway): gateway is GatewayProcess => gateway !== undefined);
  emitted.push(...(await scrapeMetrics(started)));
  await Promise.all(started.map((gateway) => gateway.stop()));
  emitted.push(...logsAndExports(started, sink));
}

/** Fail the suite when the scanner finds a key, token or prompt in anything emitted. */
export function expectNoSecrets(scanner: SecretScanner, emitted: readonly ScannedText[]): void {
  const findings = scanner.scan(emitted);
  if (findings.length > 0) throw new Error(`secrets leaked: ${JSON.stringify(findings, null, 2)}`);
}
