import type { Next } from '../core/compose.ts';
import { UpstreamError } from '../core/errors.ts';
import type { AiResult } from '../core/result.ts';
import { traceUpstreamCall } from '../telemetry/upstream.ts';
import { recordProviderRequestId } from './api-edge.ts';
import type { ProviderRegistry } from './providers/registry.ts';

/**
 * The terminal call of the gateway's chain: one upstream attempt to the context's provider, inside a
 * GenAI CLIENT span with `server.address`/`server.port` (traceUpstreamCall). Retries, fallbacks and
 * timeouts wrap it (they live in `aiHandler`'s policies); it never retries by itself.
 */
export function proxyCall(registry: ProviderRegistry): Next<AiResult> {
  return function proxyCall(ctx) {
    const provider = registry.get(ctx.provider) ?? registry.get(registry.resolve(ctx.model));
    if (!provider) {
      return Promise.reject(new UpstreamError(`No provider is configured for model '${ctx.model}'`, 0));
    }
    return traceUpstreamCall(
      ctx,
      { serverAddress: provider.serverAddress, serverPort: provider.serverPort },
      async (attempt) => {
        const result = await provider.call(attempt);
        // The provider's id is the one the client gets (see apiEdge): the request span says so too.
        const id = result.headers?.['x-request-id'];
        if (id) recordProviderRequestId(ctx, id);
        return result;
      },
    );
  };
}
