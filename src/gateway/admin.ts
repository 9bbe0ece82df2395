import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { Hono } from 'hono';
import { bearerToken } from '../core/identity.ts';
import { parseJsonObject } from '../core/json.ts';
import { redactUrl } from '../core/redact.ts';
import { PACKAGE_VERSION } from '../telemetry/version.ts';
import type { GatewayConfig } from './config/types.ts';
import { type HealthSources, readiness } from './health.ts';
import { tenantOfKey } from './identity.ts';
import type { OnDemandMetricReader } from './stats/reader.ts';
import { type StatsSummary, summarize } from './stats/summary.ts';

export interface AdminSources extends HealthSources {
  readonly config: GatewayConfig;
  /** The reader registered with the OTel SDK; undefined when the gateway did not start telemetry. */
  readonly reader: OnDemandMetricReader | undefined;
  readonly startedAt: number;
  /** The admin token now: ADMIN_TOKEN, or the one generated for a loopback gateway; undefined = admin disabled. */
  adminToken(): string | undefined;
}

function adminError(c: Context, status: 401 | 404 | 400 | 409 | 503, code: string, message: string) {
  const type =
    status === 401
      ? 'authentication_error'
      : status === 503
        ? 'service_unavailable'
        : 'invalid_request_error';
  return c.json({ error: { message, type, code } }, status);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Bearer-token guard for `/admin/*`. Without a token the admin API is disabled (404 saying so);
 * a missing or wrong token is 401. Tokens are compared in constant time over their SHA-256 digests
 * (equal lengths, so `timingSafeEqual` leaks neither content nor length).
 */
export function adminAuth(adminToken: () => string | undefined): MiddlewareHandler {
  let cached: { token: string; digest: Buffer } | undefined;
  return async function adminAuth(c, next) {
    const current = adminToken();
    if (current !== undefined && cached?.token !== current)
      cached = { token: current, digest: digest(current) };
    const expected = current === undefined ? undefined : cached?.digest;
    if (!expected) {
      return adminError(c, 404, 'admin_disabled', 'The admin API is disabled: set ADMIN_TOKEN to enable it');
    }
    const token = bearerToken(c.req.header('authorization'));
    if (!token || !timingSafeEqual(digest(token), expected)) {
      return adminError(
        c,
        401,
        'invalid_admin_token',
        'Missing or wrong admin token (Authorization: Bearer <ADMIN_TOKEN>)',
      );
    }
    await next();
  };
}

/** The full admin summary: metrics-derived stats plus live state from the policies. */
export async function adminStats(sources: AdminSources) {
  let metrics: StatsSummary | undefined;
  let metricsError: string | undefined;
  if (sources.reader) {
    const { resourceMetrics, errors } = await sources.reader.collect();
    metrics = summarize(resourceMetrics);
    if (errors.length > 0) metricsError = `partial collection: ${errors.length} error(s)`;
  } else {
    metricsError = 'telemetry is not started by the gateway: no metrics to summarise';
  }
  const { body } = readiness(sources);
  const { policies } = sources;
  const cache = policies.cache.stats();
  const breakerStates: Record<string, string> = { ...metrics?.breakers };
  for (const breaker of policies.resilience.state().breakers) breakerStates[breaker.name] = breaker.state;
  return {
    gateway: {
      version: PACKAGE_VERSION,
      status: body.status,
      uptime_seconds: Math.round((Date.now() - sources.startedAt) / 1000),
      simulated_provider: body.provider.simulated,
    },
    ...(metrics ?? {}),
    ...(metricsError ? { metrics_error: metricsError } : {}),
    cache_state: {
      enabled: sources.cacheEnabled,
      in_flight: cache.inFlight,
      ...(cache.memory ? { memory: cache.memory } : {}),
    },
    breakers: breakerStates,
    breaker_details: policies.resilience.state().breakers,
    limiter: body.limiter,
    model_queues: policies.modelLimit.state(),
    store: body.store,
  };
}

function redactedConfig(config: GatewayConfig) {
  return {
    source: config.source ?? null,
    server: config.server,
    cache: {
      ...config.cache,
      redisUrl: config.cache.redisUrl === undefined ? undefined : redactUrl(config.cache.redisUrl),
    },
    rate_limit: config.rateLimit,
    tiers: config.tiers,
    api_keys: config.apiKeys.map((entry) => ({ tenant: entry.tenant, tier: entry.tier })),
    providers: Object.values(config.providers).map((p) => ({
      name: p.name,
      type: p.type,
      base_url: redactUrl(p.baseUrl),
      api_key_env: p.apiKeyEnv ?? null,
      api_key_set: p.apiKey !== undefined,
      simulated: p.simulated,
    })),
    ai_models: config.models,
    breaker: config.breaker,
  };
}

/**
 * `GET /admin/budgets`: every tenant with a budget, from `[[api_keys]]` and the callers this process
 * has served this period, with its spend so far (shared through Redis when configured).
 */
export async function adminBudgets(sources: AdminSources) {
  const callers = sources.config.apiKeys.map((entry) => ({ tenant: entry.tenant, tier: entry.tier }));
  const statuses = await sources.policies.budget.report(callers);
  return {
    budgets: statuses.map((status) => ({
      tenant: status.tenant,
      tier: status.tier,
      budget_usd: status.budgetUsd,
      spent_usd: status.spentUsd,
      reserved_usd: status.reservedUsd,
      period: status.period,
      resets_at: status.resetsAt,
    })),
    mode: sources.policies.budget.state().mode,
  };
}

/**
 * The admin API: `GET /admin/stats`, `POST /admin/cache/clear` (all, or `{"tenant"}` / `{"api_key"}`),
 * `GET /admin/budgets` (spend per tenant), `GET /admin/export` (stats + the effective config, secrets
 * removed). Mount under `/admin`.
 */
export function adminRoutes(sources: AdminSources): Hono {
  const admin = new Hono();
  admin.use(
    '*',
    adminAuth(() => sources.adminToken()),
  );
  admin.get('/stats', async (c) => c.json(await adminStats(sources)));
  admin.post('/cache/clear', async (c) => {
    if (!sources.cacheEnabled)
      return adminError(c, 409, 'cache_disabled', 'The cache is disabled ([cache] enabled = false)');
    const text = await c.req.text();
    const body = text.trim() === '' ? {} : parseJsonObject(text);
    if (body === undefined) {
      return adminError(
        c,
        400,
        'invalid_json',
        'Body must be empty or a JSON object: {"tenant": "..."} or {"api_key": "..."}',
      );
    }
    let tenant: string | undefined;
    if (typeof body.tenant === 'string' && body.tenant !== '') tenant = body.tenant;
    else if (typeof body.api_key === 'string' && body.api_key !== '') {
      tenant = tenantOfKey(sources.config, body.api_key);
      if (!tenant) return adminError(c, 400, 'unknown_api_key', 'That API key is not configured');
    } else if (body.tenant !== undefined || body.api_key !== undefined) {
      return adminError(c, 400, 'invalid_tenant', "'tenant' and 'api_key' must be non-empty strings");
    }
    const { apiKeys } = sources.config;
    // With [[api_keys]], tenants are names from the config: any other name is a typo, not an empty tenant.
    if (tenant !== undefined && apiKeys.length > 0 && !apiKeys.some((entry) => entry.tenant === tenant)) {
      return adminError(
        c,
        404,
        'unknown_tenant',
        `No [[api_keys]] entry has tenant ${JSON.stringify(tenant)}: nothing to clear`,
      );
    }
    const layers = await sources.policies.cache.clear(tenant);
    const removed = Object.values(layers).reduce((sum, count) => sum + count, 0);
    return c.json({
      cleared: tenant === undefined ? 'all' : 'tenant',
      ...(tenant ? { tenant } : {}),
      removed,
      layers,
    });
  });
  admin.get('/budgets', async (c) => c.json(await adminBudgets(sources)));
  admin.get('/export', async (c) => {
    const exported = {
      exported_at: new Date().toISOString(),
      stats: await adminStats(sources),
      config: redactedConfig(sources.config),
    };
    c.header('content-disposition', `attachment; filename="alchemist-export-${Date.now()}.json"`);
    return c.json(exported);
  });
  admin.notFound((c) => adminError(c, 404, 'not_found', `No admin route ${c.req.method} ${c.req.path}`));
  return admin;
}
