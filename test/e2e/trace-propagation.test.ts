import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../helpers/gateway.ts';
import { freePort } from '../helpers/ports.ts';
import { type OtlpSink, startOtlpSink } from './harness/otlp-sink.ts';

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

/** An OpenAI-compatible upstream that remembers the headers of every request. */
async function recordingUpstream(): Promise<{
  url: string;
  seen: IncomingHttpHeaders[];
  close(): Promise<void>;
}> {
  const seen: IncomingHttpHeaders[] = [];
  const server: Server = createServer((request, response) => {
    seen.push(request.headers);
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: 'chatcmpl-1',
          object: 'chat.completion',
          model: 'gpt-4o-mini',
          choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
        }),
      );
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  traceState?: string;
}

function exportedSpans(sink: OtlpSink): ExportedSpan[] {
  const spans: ExportedSpan[] = [];
  for (const item of sink.exports()) {
    if (item.path !== '/v1/traces') continue;
    const body = JSON.parse(item.text) as {
      resourceSpans: { scopeSpans: { spans: ExportedSpan[] }[] }[];
    };
    for (const resource of body.resourceSpans)
      for (const scope of resource.scopeSpans) spans.push(...scope.spans);
  }
  return spans;
}

const config = (upstream: string, propagate: boolean) => `
[providers.openai]
type = "openai"
base_url = "${upstream}/v1"
[telemetry]
propagate = ${propagate}
[breaker]
max_retries = 0
`;
const ENV = {
  OPENAI_API_KEY: 'sk-upstream-propagation-test',
  OTEL_BSP_SCHEDULE_DELAY: '100',
  REDIS_URL: undefined,
};

const ask = (url: string, prompt: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: 'Bearer sk-caller',
      traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`,
      tracestate: 'caller=kept',
    },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] }),
  });

// Issue 15: a request with traceparent produced a new root trace, tracestate was dropped, and nothing
// was injected toward the provider, so the trace stopped at the gateway.
describe('one trace from the caller through the gateway to the provider', () => {
  let upstream: Awaited<ReturnType<typeof recordingUpstream>>;
  let sink: OtlpSink;
  beforeAll(async () => {
    upstream = await recordingUpstream();
    sink = await startOtlpSink();
  });
  afterAll(async () => {
    await upstream?.close();
    await sink?.close();
  });

  it("continues the caller's trace and hands the provider its CLIENT span as parent", async () => {
    const gw = await startGateway({ config: config(upstream.url, true), otlpEndpoint: sink.url, env: ENV });
    try {
      const response = await ask(gw.url, 'propagate');
      expect(response.status).toBe(200);
      await response.text();
      const isClient = (s: ExportedSpan) => s.traceId === CALLER_TRACE && s.kind === 3;
      await expect.poll(() => exportedSpans(sink).some(isClient), { timeout: 10_000 }).toBe(true);
      const client = exportedSpans(sink).find(isClient)!;
      const server = exportedSpans(sink).find((s) => s.traceId === CALLER_TRACE && s.kind === 2)!;
      expect(server.parentSpanId).toBe(CALLER_SPAN);
      expect(server.traceState).toBe('caller=kept');
      expect(client.parentSpanId).toBe(server.spanId);
      const sent = upstream.seen.at(-1)!;
      expect(sent.traceparent).toBe(`00-${CALLER_TRACE}-${client.spanId}-01`);
      expect(sent.tracestate).toBe('caller=kept');
    } finally {
      await gw.stop();
    }
  });

  it('sends no trace context to providers with [telemetry] propagate = false', async () => {
    const gw = await startGateway({ config: config(upstream.url, false), otlpEndpoint: sink.url, env: ENV });
    try {
      const response = await ask(gw.url, 'do not propagate');
      expect(response.status).toBe(200);
      await response.text();
      const sent = upstream.seen.at(-1)!;
      expect(sent.traceparent).toBeUndefined();
      expect(sent.tracestate).toBeUndefined();
      // The gateway's own trace still continues the caller's.
      expect(response.headers.get('traceparent')).toMatch(new RegExp(`^00-${CALLER_TRACE}-`));
    } finally {
      await gw.stop();
    }
  });
});
