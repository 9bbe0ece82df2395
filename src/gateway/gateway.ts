import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { registerSecrets } from '../core/redact.ts';
import { loadTokenizer } from '../ratelimit/index.ts';
import type { Simulator } from '../simulator/index.ts';
import { startSimulator } from '../simulator/index.ts';
import { primeSeries } from '../telemetry/prime.ts';
import type { Telemetry } from '../telemetry/setup.ts';
import { setupTelemetry } from '../telemetry/setup.ts';
import { PACKAGE_VERSION } from '../telemetry/version.ts';
import { isLoopback, removeLocalToken, writeLocalToken } from './admin-token.ts';
import { createGatewayApp } from './app.ts';
import { secretValues } from './config/secret.ts';
import type { GatewayConfig } from './config/types.ts';
import { ConnectionDrain } from './drain.ts';
import { type GatewayPhase, SIMULATED_PROVIDER_WARNING } from './health.ts';
import type { Logger } from './log.ts';
import { createLogger } from './log.ts';
import { createGatewayPolicies, type GatewayPolicies } from './policies.ts';
import { createProviderRegistry, type ProviderRegistry } from './providers/registry.ts';
import { seriesPlan } from './series.ts';
import { OnDemandMetricReader } from './stats/reader.ts';

export interface GatewayOptions {
  /**
   * Start the OpenTelemetry SDK in `start()` (Prometheus endpoint, OTLP when configured) with the
   * reader `/admin/stats` collects from. Pass false when your process already set up telemetry.
   * @default true
   */
  telemetry?: boolean;
  /** Where the gateway logs. @default createLogger() (text lines on stderr) */
  logger?: Logger;
  /**
   * Without ADMIN_TOKEN, a gateway bound to loopback generates an admin token into a private file
   * (mode 0600) that the CLI reads. false: the admin API stays disabled without ADMIN_TOKEN.
   * @default true
   */
  localAdminToken?: boolean;
}

/** Longest a client may take to send its request headers, ms. */
const CLIENT_HEADERS_TIMEOUT_MS = 10_000;
/** Longest a client may take to send its whole request (headers and body), ms. */
const CLIENT_REQUEST_TIMEOUT_MS = 20_000;

async function startEmbeddedSimulator(settings: GatewayConfig['simulator']): Promise<Simulator> {
  try {
    return await startSimulator({
      latencyMs: settings.latencyMs,
      jitterMs: settings.jitterMs,
      chunkDelayMs: settings.chunkDelayMs,
      port: settings.port,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    throw new Error(
      `the simulator port 127.0.0.1:${settings.port} is in use: set [simulator] port to a free port, or 0 for any`,
    );
  }
}

/** A gateway: the Hono app plus its lifecycle. */
export interface Gateway {
  readonly app: Hono;
  readonly config: GatewayConfig;
  readonly policies: GatewayPolicies;
  readonly registry: ProviderRegistry;
  /** The embedded simulated provider, when it answers (no real provider configured). */
  readonly simulator: Simulator | undefined;
  /**
   * Listen on `[server] host:port`; resolves once ready: listening, and the tokenizer loaded when token
   * limits are on (until then `/readyz` answers 503 `starting`, `/healthz` 200).
   */
  start(): Promise<{ url: string; port: number }>;
  /**
   * Graceful shutdown: stop accepting, let in-flight requests (streams included) finish within
   * `[server] shutdown_timeout`, close idle keep-alive sockets, then the pools, Redis, the simulator,
   * and flush telemetry. Safe to call twice.
   */
  stop(): Promise<void>;
}

/**
 * Build the OpenAI-compatible gateway from a resolved config (see `loadConfig()`).
 *
 * @example
 * const gateway = await createGateway(loadConfig({ path: 'alchemist.toml' }));
 * const { url } = await gateway.start();
 * process.on('SIGTERM', () => gateway.stop());
 */
export async function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger();
  // Known from now on to the scrubber behind error bodies and log lines; forgotten on stop.
  const forgetSecrets = [registerSecrets(secretValues(config))];
  const startedAt = Date.now();
  let phase: GatewayPhase = 'starting';
  const simulator = config.simulator.enabled ? await startEmbeddedSimulator(config.simulator) : undefined;
  const registry = createProviderRegistry(config, simulator?.url);
  const policies = createGatewayPolicies(config, registry, logger);
  const reader = options.telemetry === false ? undefined : new OnDemandMetricReader();
  let adminToken = config.admin.token?.reveal();
  let localTokenPort: number | undefined;
  const app = createGatewayApp({
    config,
    policies,
    registry,
    logger,
    reader,
    startedAt,
    simulatorUrl: simulator?.url,
    cacheEnabled: config.cache.enabled,
    budgetsEnabled: config.budgets.enabled,
    phase: () => phase,
    adminToken: () => adminToken,
  });

  let telemetry: Telemetry | undefined;
  let server: Server | undefined;
  let connections: ConnectionDrain | undefined;
  let stopping: Promise<void> | undefined;

  async function release(): Promise<void> {
    await policies.close();
    await registry.close();
    await simulator?.close();
    await telemetry?.shutdown();
    if (localTokenPort !== undefined) removeLocalToken(localTokenPort);
    for (const forget of forgetSecrets) forget();
  }

  return {
    app,
    config,
    policies,
    registry,
    simulator,
    async start() {
      if (server) throw new Error('gateway already started');
      if (reader) {
        try {
          telemetry = await setupTelemetry({
            serviceName: config.telemetry.serviceName,
            serviceVersion: PACKAGE_VERSION,
            prometheusPort: config.telemetry.prometheusPort,
            prometheusHost: config.telemetry.prometheusHost,
            otlpEndpoint: config.telemetry.otlpEndpoint,
            metricReaders: [reader],
          });
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
          // A second gateway on one machine: its metrics port is the first thing to collide.
          const { prometheusHost = '127.0.0.1', prometheusPort = 9464 } = config.telemetry;
          throw new Error(
            `the metrics port ${prometheusHost}:${prometheusPort} is in use (another gateway?): ` +
              'move it with OTEL_EXPORTER_PROMETHEUS_PORT=<port> or [telemetry] prometheus_port, ' +
              'or turn it off with [telemetry] prometheus_port = false',
          );
        }
        // The breakers of configured models exist from the start: give them their series now.
        policies.resilience.breakers.recordStates();
      }
      // Every known decision's series exists at 0 before the first request, so rate() sees it.
      primeSeries(seriesPlan(config, registry));
      const { host, port } = config.server;
      const listening = serve({
        fetch: app.fetch,
        port,
        hostname: host,
        // Node's defaults let a client dribble headers for 60 s and a body for 300 s (slowloris);
        // a gateway cuts them off sooner. These bound receiving the request only, never a streamed answer.
        serverOptions: {
          headersTimeout: CLIENT_HEADERS_TIMEOUT_MS,
          requestTimeout: CLIENT_REQUEST_TIMEOUT_MS,
          connectionsCheckingInterval: 1000,
        },
      }) as Server;
      server = listening;
      connections = new ConnectionDrain(listening);
      try {
        await new Promise<void>((resolve, reject) => {
          listening.once('listening', resolve);
          listening.once('error', reject);
        });
      } catch (error) {
        await release();
        const code = (error as NodeJS.ErrnoException).code;
        throw new Error(
          `cannot listen on ${host}:${port}${code === 'EADDRINUSE' ? ': the address is in use' : `: ${String(error)}`}`,
        );
      }
      const address = listening.address() as AddressInfo;
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
      let admin = adminToken ? 'on (ADMIN_TOKEN)' : 'off (set ADMIN_TOKEN)';
      if (!adminToken && isLoopback(host) && options.localAdminToken !== false) {
        // Loopback only: a generated token in a private file the CLI reads (never logged). If the
        // file cannot be private (another user owns the directory), the admin API stays off.
        try {
          const local = writeLocalToken(address.port);
          adminToken = local.token;
          forgetSecrets.push(registerSecrets([local.token]));
          localTokenPort = address.port;
          admin = `on (local token in ${local.path})`;
        } catch (error) {
          admin = `off (no private token file: ${error instanceof Error ? error.message : String(error)}; set ADMIN_TOKEN)`;
        }
      }
      // The first token-limited request would otherwise wait for the tokenizer (~0.5 s): load it now,
      // while /readyz says why the gateway is not ready yet.
      if (policies.limitsTokens) {
        try {
          await loadTokenizer();
        } catch (error) {
          listening.close();
          server = undefined;
          await release();
          throw new Error(`cannot load the tokenizer that token limits need: ${String(error)}`);
        }
      }
      if (stopping) return { url, port: address.port };
      phase = 'ready';
      logger.info('alchemist-perf gateway listening', {
        url,
        metrics:
          telemetry?.prometheusPort !== undefined
            ? `http://${config.telemetry.prometheusHost ?? '127.0.0.1'}:${telemetry.prometheusPort}/metrics`
            : 'off',
        config: config.source ?? 'embedded defaults',
        cache: config.cache.enabled ? (policies.redis ? 'memory+redis' : 'memory') : 'off',
        limits: policies.tierLimit.state().mode,
        ...(config.budgets.enabled ? { budgets: policies.budget.state().mode } : {}),
        admin,
      });
      if (simulator) {
        const bar = '!'.repeat(100);
        logger.warn(bar);
        logger.warn(SIMULATED_PROVIDER_WARNING, { simulator: simulator.url });
        logger.warn(bar);
      } else {
        for (const provider of Object.values(config.providers)) {
          if (!provider.apiKey && provider.apiKeyEnv) {
            logger.warn('provider key is not set; calls will be sent without one', {
              provider: provider.name,
              api_key_env: provider.apiKeyEnv,
            });
          }
        }
      }
      return { url, port: address.port };
    },
    stop() {
      stopping ??= (async () => {
        if (!server || phase !== 'ready') {
          // Never listened (or failed to): nothing to drain.
          server?.close();
          phase = 'stopped';
          await release();
          return;
        }
        phase = 'draining';
        const drain = connections as ConnectionDrain;
        logger.info('shutting down: draining in-flight requests', { in_flight: drain.inFlight });
        // New connections are refused; a request that reached an open socket is answered with
        // `connection: close`; sockets that stay idle are closed (see ConnectionDrain).
        const { abandoned } = await drain.drain(Date.now() + config.server.shutdownTimeoutMs);
        if (abandoned > 0)
          logger.warn('shutdown timeout: closed remaining connections', { in_flight: abandoned });
        phase = 'stopped';
        await release();
        logger.info('gateway stopped');
      })();
      return stopping;
    },
  };
}
