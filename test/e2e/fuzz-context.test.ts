import fc from 'fast-check';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { jsonResult, streamResult } from '../../src/core/result.ts';
import { aiContext } from '../../src/hono/context.ts';
import { aiHandler } from '../../src/hono/handler.ts';
import { policyMiddleware } from '../../src/hono/policy.ts';
import { traceUpstreamCall } from '../../src/telemetry/upstream.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';
import { type FuzzRequest, fuzzRuns, requestArb, violation } from './harness/fuzz.ts';
import { settledHeap } from './harness/memory.ts';

// Property-based abuse of the foundation's request path (aiContext → a policy → aiHandler →
// traceUpstreamCall) through app.request(): whatever the body and headers, the answer is a 2xx or a
// well-formed OpenAI-style 4xx, never a 5xx or a crash. The gateway-wide version is gateway-fuzz.test.ts.

const telemetry = useTestTelemetry();

function buildApp() {
  const app = new Hono();
  app.use('/v1/*', aiContext());
  app.use(
    '/v1/*',
    policyMiddleware('passthrough', {
      name: 'passthrough',
      execute: (ctx, next) => next(ctx),
    }),
  );
  app.post(
    '/v1/chat/completions',
    aiHandler((ctx) =>
      traceUpstreamCall(ctx, { serverAddress: 'fuzz.invalid' }, async () =>
        ctx.stream
          ? streamResult(
              (async function* () {
                yield { model: ctx.model, choices: [{ index: 0, delta: { content: 'ok' } }] };
                yield { model: ctx.model, choices: [], usage: { prompt_tokens: 3, completion_tokens: 1 } };
              })(),
            )
          : jsonResult({
              id: 'chatcmpl-fuzz',
              model: ctx.model,
              choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
              usage: { prompt_tokens: 3, completion_tokens: 1 },
            }),
      ),
    ),
  );
  return app;
}

async function send(app: Hono, request: FuzzRequest) {
  const response = await app.request('/v1/chat/completions', {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    text: await response.text(),
  };
}

describe('fuzzing aiContext + aiHandler (in process)', () => {
  const app = buildApp();

  it('answers any body and headers with a 2xx or an OpenAI-style 4xx', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(requestArb, async (request) => {
        const reply = await send(app, request);
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
        const problem = violation(reply.status, reply.type, reply.text);
        if (problem) throw new Error(problem);
      }),
      { numRuns: fuzzRuns(3000) },
    );
    telemetry.reset();
    // The generators must reach both sides of the validation, or the property proves little.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(50);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(50);
  });

  it('keeps the prototype of every object intact (no __proto__ pollution from bodies)', async () => {
    for (const body of [
      '{"model":"gpt-4o-mini","__proto__":{"polluted":true}}',
      '{"model":"gpt-4o-mini","constructor":{"prototype":{"polluted":true}}}',
    ]) {
      const reply = await send(app, { body, headers: { 'content-type': 'application/json' } });
      expect(reply.status).toBe(200);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps memory flat over thousands of bad and good requests', async () => {
    const cases = fc.sample(requestArb, { numRuns: 1500, seed: 42 });
    const runAll = async () => {
      for (const request of cases) await send(app, request);
      telemetry.reset();
    };
    await runAll(); // warm-up: JIT, label caps, instrument series
    const before = await settledHeap();
    await runAll();
    await runAll();
    const growth = (await settledHeap()) - before;
    // 3000 requests; a leak of even 1 KB per request would show as 3 MB.
    expect(growth, `heap grew by ${(growth / 1e6).toFixed(2)} MB`).toBeLessThan(3_000_000);
  });
});
