import type { Context } from 'hono';
import { Hono } from 'hono';
import { SIMULATED_MODELS } from '../simulator/server.ts';
import type { GatewayConfig } from './config/types.ts';
import type { ProviderRegistry } from './providers/registry.ts';

/**
 * `GET /v1/models` and `GET /v1/models/{id}` (OpenAI's shapes): every routable model, the configured
 * ones and, while the embedded simulator answers, the simulator's. The list is fixed at start.
 */
export function modelRoutes(config: GatewayConfig, registry: ProviderRegistry, simulated: boolean): Hono {
  const ids = new Set([...Object.keys(config.models), ...(simulated ? SIMULATED_MODELS : [])]);
  const models = new Map(
    [...ids].map((id) => [id, { id, object: 'model', created: 0, owned_by: registry.resolve(id) }] as const),
  );
  const list = { object: 'list', data: [...models.values()] };

  const routes = new Hono();
  routes.get('/', (c) => c.json(list));
  // `{.+}`: ids like `org/model` keep their slash.
  routes.get('/:id{.+}', (c: Context) => {
    const id = c.req.param('id') ?? '';
    const model = models.get(id);
    if (model) return c.json(model);
    return c.json(
      {
        error: {
          message: `The model ${JSON.stringify(id)} does not exist on this gateway (GET /v1/models lists them)`,
          type: 'invalid_request_error',
          param: 'model',
          code: 'model_not_found',
        },
      },
      404,
    );
  });
  return routes;
}
