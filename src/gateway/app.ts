import { Hono } from 'hono';
import type { Policy } from '../core/compose.ts';
import { BadRequestError } from '../core/errors.ts';
import { redactExcerpt } from '../core/redact.ts';
import type { AiResult } from '../core/result.ts';
import { aiContext } from '../hono/context.ts';
import { aiErrorHandler } from '../hono/error-handler.ts';
import { aiHandler } from '../hono/handler.ts';
import { wireFormat } from '../wire/index.ts';
import type { WireApi } from '../wire/types.ts';
import { type AdminSources, adminRoutes } from './admin.ts';
import { apiEdge, requestIdHeaders, requestIdOnSpan } from './api-edge.ts';
import { requestBodyLimit } from './body-limit.ts';
import { readyzHandler } from './health.ts';
import { createIdentify } from './identity.ts';
import type { Logger } from './log.ts';
import { modelRoutes } from './models.ts';
import type { ProviderRegistry } from './providers/registry.ts';
import { proxyCall } from './proxy.ts';
import { usageChunkWhenAsked } from './usage-chunk.ts';
import {
  validateChatRequest,
  validateCompletionsRequest,
  validateEmbeddingsRequest,
  validateMessagesRequest,
  validateResponsesRequest,
} from './validate.ts';

/** The API routes: each runs the same policies and telemetry, in its own wire format. */
const API_ROUTES: readonly {
  readonly path: string;
  readonly api: WireApi;
  readonly validate: (body: Record<string, unknown>) => void;
}[] = [
  { path: '/v1/chat/completions', api: 'openai.chat', validate: validateChatRequest },
  { path: '/v1/responses', api: 'openai.responses', validate: validateResponsesRequest },
  { path: '/v1/embeddings', api: 'openai.embeddings', validate: validateEmbeddingsRequest },
  { path: '/v1/completions', api: 'openai.completions', validate: validateCompletionsRequest },
  { path: '/v1/messages', api: 'anthropic.messages', validate: validateMessagesRequest },
];

/** 400 when the model's provider cannot serve the route's API (an Anthropic provider has only Messages). */
function servedBy(registry: ProviderRegistry, api: WireApi, model: string): void {
  const provider = registry.get(registry.resolve(model));
  if (provider?.type === 'anthropic' && api !== 'openai.chat' && api !== 'anthropic.messages') {
    throw new BadRequestError(
      `Model '${model}' is served by the Anthropic provider '${provider.name}', which has no ${api.replace('openai.', '')} API`,
      'unsupported_api',
    );
  }
}

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

/** Client request headers passed on to an Anthropic provider with a call in the Messages shape. */
const FORWARDED_HEADERS = ['anthropic-version', 'anthropic-beta'] as const;

/**
 * The gateway's Hono app, composed only from the public middleware and a proxy handler. Every API
 * route (chat completions, Responses, embeddings, legacy completions, Anthropic Messages) runs
 * apiEdge (x-request-id) → bodyLimit (413) → aiContext with the route's wire format (the request
 * span and metrics; 401, 400 with the route's checks; answers and errors in the route's API shape) →
 * aiHandler(proxy, [usage chunk only when asked, tier limits (429), cache, budgets (429),
 * resilience: retries, breakers (503),
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

  const identify = createIdentify(config);
  // One handler per app: the limiter, the cache, the budget and resilience around the provider call,
  // one pipeline, one pass, the answer rendered once. The budget sits inside the cache: a hit costs
  // nothing and answers even over budget.
  const handler = aiHandler(
    proxyCall(registry),
    [
      usageChunkWhenAsked,
      policies.tierLimit,
      policies.cache,
      policies.budget,
      withoutProviderHeaders,
      policies.resilience,
    ],
    { headers: requestIdHeaders },
  );
  for (const { path, api, validate } of API_ROUTES) {
    const wire = wireFormat(api);
    // Outermost: the answer in the route's own API shape, with its x-request-id.
    app.use(path, apiEdge(wire));
    app.use(path, requestBodyLimit(config.server.maxBodyBytes));
    app.use(
      path,
      aiContext({
        identify,
        wire,
        validate: (body) => {
          validate(body);
          servedBy(registry, api, body.model as string);
        },
        defaultTier: config.rateLimit.defaultTier,
        resolveProvider: (model) => registry.resolve(model),
        genAiProvider: (name) => registry.get(name)?.type ?? name,
        // The client's Messages API version and betas, for calls in the Messages shape.
        forwardHeaders: FORWARDED_HEADERS,
      }),
    );
    app.use(path, requestIdOnSpan());
    app.post(path, handler);
  }
  return app;
}
