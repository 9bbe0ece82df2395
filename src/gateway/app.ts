import { Hono } from 'hono';
import type { Policy } from '../core/compose.ts';
import { redactExcerpt } from '../core/redact.ts';
import type { AiResult } from '../core/result.ts';
import { aiContext } from '../hono/context.ts';
import { aiErrorHandler } from '../hono/error-handler.ts';
import { aiHandler } from '../hono/handler.ts';
import { type AdminSources, adminRoutes } from './admin.ts';
import { requestBodyLimit } from './body-limit.ts';
import { readyzHandler } from './health.ts';
import { createIdentify } from './identity.ts';
import type { Logger } from './log.ts';
import { modelRoutes } from './models.ts';
import type { ProviderRegistry } from './providers/registry.ts';
import { proxyCall } from './proxy.ts';
import { validateChatRequest } from './validate.ts';

/** Provider response headers the outbound limiter reads but clients must not see (they describe our provider account). */
const PROVIDER_ONLY_HEADERS = /^(x-ratelimit-|anthropic-ratelimit-|retry-after-ms$)/i;

/**
 * Drops the provider's own rate-limit headers from results once the outbound limiter (inside the
 * resilience policy) has read them, so neither the cache nor the client ever sees them.
 */
const withoutProviderHeaders: Policy<AiResult> = {
  name: 'withoutProviderHeaders',
  async execute(ctx, next) {
    const result = await next(ctx);
    const headers = result.headers;
    if (!headers || !Object.keys(headers).some((name) => PROVIDER_ONLY_HEADERS.test(name))) return result;
    const kept: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers))
      if (!PROVIDER_ONLY_HEADERS.test(name)) kept[name] = value;
    return { ...result, headers: kept };
  },
};

export interface GatewayAppDeps extends AdminSources {
  readonly registry: ProviderRegistry;
  readonly logger: Logger;
}

/**
 * The gateway's Hono app, composed only from the public middleware and a proxy handler:
 * bodyLimit (413) → aiContext (the request span and metrics; 401, 400 with the chat checks) →
 * aiHandler(proxy, [tier limits (429), cache, budgets (429), resilience: retries, breakers (503),
 * timeouts (504), fallbacks, per-model limits]).
 */
export function createGatewayApp(deps: GatewayAppDeps): Hono {
  const { config, policies, registry, logger } = deps;
  const app = new Hono();

  app.onError(
    aiErrorHandler({
      onUnexpected: (error, c) =>
        logger.error('unhandled error', {
          error: error.name,
          message: redactExcerpt(error.message),
          route: c.req.path,
        }),
    }),
  );
  app.notFound((c) =>
    c.json(
      {
        error: {
          message: `Unknown route: ${c.req.method} ${c.req.path}`,
          type: 'invalid_request_error',
          code: 'not_found',
        },
      },
      404,
    ),
  );

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', readyzHandler(deps));
  app.route('/admin', adminRoutes(deps));
  app.route('/v1/models', modelRoutes(config, registry, deps.simulatorUrl !== undefined));

  const route = '/v1/chat/completions';
  app.use(route, requestBodyLimit(config.server.maxBodyBytes));
  app.use(
    route,
    aiContext({
      identify: createIdentify(config),
      validate: validateChatRequest,
      defaultTier: config.rateLimit.defaultTier,
      resolveProvider: (model) => registry.resolve(model),
      genAiProvider: (name) => registry.get(name)?.type ?? name,
    }),
  );
  // One handler runs the limiter, the cache and resilience around the provider call: one pipeline,
  // one pass, the answer rendered once.
  app.post(
    route,
    // The budget sits inside the cache: a hit costs nothing and answers even over budget.
    aiHandler(proxyCall(registry), [
      policies.tierLimit,
      policies.cache,
      policies.budget,
      withoutProviderHeaders,
      policies.resilience,
    ]),
  );
  return app;
}
