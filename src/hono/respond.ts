import type { RequestPipeline } from '../core/pipeline.ts';

/**
 * End the request with a response a handler of your own produced (no policy ran through the
 * pipeline): JSON ends it now, an SSE body when the body has been read to its end (or the client went
 * away), without parsing it. The response gets the pipeline's headers (`traceparent`).
 */
export function finishWithResponse(pipeline: RequestPipeline, response: Response): Response {
  const headers = pipeline.headers();
  const isStream =
    response.body !== null && response.headers.get('content-type')?.includes('text/event-stream');
  if (!isStream) {
    pipeline.finish({ kind: 'json', status: response.status, body: undefined });
    return withHeaders(response, response.body, headers);
  }
  const body = response.body as ReadableStream<Uint8Array>;
  const observed = pipeline.finish({ kind: 'stream', status: response.status, chunks: body });
  if (observed.kind !== 'stream') return response;
  return withHeaders(response, ReadableStream.from(observed.chunks as AsyncIterable<Uint8Array>), headers);
}

function withHeaders(
  response: Response,
  body: ReadableStream<Uint8Array> | null,
  headers: Record<string, string>,
): Response {
  const names = Object.keys(headers);
  if (names.length === 0 && body === response.body) return response;
  const merged = new Headers(response.headers);
  for (const name of names) merged.set(name, headers[name]!);
  return new Response(body, { status: response.status, statusText: response.statusText, headers: merged });
}
