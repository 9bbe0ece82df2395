import type { GatewayProcess } from '../../helpers/gateway.ts';
import type { OtlpSink } from './otlp-sink.ts';
import type { ScannedText } from './secrets.ts';

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
