import { Hono } from 'hono';
import { jsonResult } from '../../src/core/result.ts';
import { aiCache, aiContext, aiHandler } from '../../src/hono/index.ts';
import { setupTelemetry } from '../../src/telemetry/index.ts';
import { listen, type Running } from './listen.ts';

/**
 * A team's own Hono app with the cache middleware added (`aiContext()` + `aiCache()`, memory LRU) in
 * front of a handler that calls the provider with `fetch`, telemetry exported over OTLP/HTTP like the
 * pack's. No gateway, no limits: what the cache-hit path costs someone adding two `app.use()` lines.
 */
export async function startCacheMiddleware(upstream: string, otlpEndpoint: string): Promise<Running> {
  const telemetry = await setupTelemetry({
    serviceName: 'bench-cache-middleware',
    prometheusPort: false,
    otlpEndpoint,
  });
  const app = new Hono();
  const route = '/v1/chat/completions';
  app.use(route, aiContext());
  app.use(route, aiCache());
  app.post(
    route,
    aiHandler(async (ctx) => {
      const response = await fetch(`${upstream}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer bench-provider-key' },
        body: JSON.stringify(ctx.request),
        signal: ctx.signal,
      });
      return jsonResult(await response.json(), response.status);
    }),
  );
  const running = await listen(app.fetch);
  return {
    url: running.url,
    close: async () => {
      await running.close();
      await telemetry.shutdown();
    },
  };
}
