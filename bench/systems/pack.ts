import { createGateway, loadConfig, silentLogger } from '../../src/gateway/index.ts';
import type { SystemSpec } from '../protocol.ts';
import type { Running } from './listen.ts';

type PackSpec = Extract<SystemSpec, { kind: 'pack' }>;

/** Limits far above what two cores can send: the limiters do all their work but never say no. */
const UNREACHABLE = 1_000_000_000;

/** The gateway config for a pack: every policy on, limits unreachable, the bench's provider. */
export function packConfigToml(spec: PackSpec): string {
  const lines = [
    '[server]',
    'host = "127.0.0.1"',
    'port = 0',
    '[cache]',
    `enabled = ${spec.cache}`,
    `max_memory_items = ${spec.maxMemoryItems ?? 10_000}`,
    ...(spec.redisUrl ? [`redis_url = "${spec.redisUrl}"`] : []),
    '[rate_limit]',
    'default_tier = "bench"',
    '[tiers.bench]',
    `requests_per_minute = ${UNREACHABLE}`,
    `tokens_per_minute = ${UNREACHABLE}`,
    `max_concurrent = ${UNREACHABLE}`,
    '[providers.sim]',
    'type = "openai"',
    `base_url = "${spec.upstream.replace(/\/+$/, '')}/v1"`,
    'api_key_env = "BENCH_PROVIDER_KEY"',
    '[ai_models."gpt-4o-mini"]',
    'provider = "sim"',
    `rate_limit = ${UNREACHABLE}`,
    `tokens_per_minute = ${UNREACHABLE}`,
    `max_concurrent = ${UNREACHABLE}`,
    '[simulator]',
    'enabled = false',
    '[telemetry]',
    'prometheus_port = false',
    ...(spec.otlpEndpoint ? [`otlp_endpoint = "${spec.otlpEndpoint}"`] : []),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * The full pack: the gateway exactly as `alchemist-perf serve` builds it (aiContext, tier limits,
 * cache with coalescing, model limits, breaker/retry/timeout, the undici proxy), from a config with
 * every policy on. Telemetry on = the gateway's own `setupTelemetry()` exporting over OTLP/HTTP;
 * off = no SDK registered at all (the OTel API's no-op path).
 */
export async function startPack(spec: PackSpec): Promise<Running> {
  const config = loadConfig({
    text: packConfigToml(spec),
    env: { BENCH_PROVIDER_KEY: 'bench-provider-key' },
  });
  const gateway = await createGateway(config, {
    telemetry: spec.otlpEndpoint !== undefined,
    logger: silentLogger,
    localAdminToken: false,
  });
  const { url } = await gateway.start();
  return { url, close: () => gateway.stop() };
}
