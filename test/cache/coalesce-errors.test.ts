import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { aiCachePolicy } from '../../src/cache/policy.ts';
import { StreamRecording } from '../../src/cache/recording.ts';
import { type CallContext, createCallContext } from '../../src/core/context.ts';
import { isUpstreamError, ownCopy, UpstreamError } from '../../src/core/errors.ts';
import type { AiResult } from '../../src/core/result.ts';
import { aiContext, aiHandler, rateLimitHeaders } from '../../src/hono/index.ts';
import { tierRateLimitPolicy } from '../../src/ratelimit/index.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';

useTestTelemetry();

const request = { model: 'gpt-4o', messages: [{ role: 'user', content: 'same' }] };
const ctx = () =>
  createCallContext({
    provider: 'openai',
    model: 'gpt-4o',
    request,
    signal: new AbortController().signal,
    tenant: 't',
  });
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ownCopy', () => {
  it('keeps class, brand, message, status, cause and stack, with headers of its own', () => {
    const cause = new Error('socket hang up');
    const original = new UpstreamError('Upstream answered 500', 500, { cause, headers: { a: '1' } });
    const copy = ownCopy(original);
    copy.headers.b = '2';
    expect(copy).not.toBe(original);
    expect(copy).toBeInstanceOf(UpstreamError);
    expect(isUpstreamError(copy)).toBe(true);
    expect([copy.message, copy.status, copy.code, copy.cause, copy.stack]).toEqual([
      original.message,
      original.status,
      original.code,
      cause,
      original.stack,
    ]);
    expect(copy.toBody()).toEqual(original.toBody());
    expect(original.headers).toEqual({ a: '1' });
    expect(copy.headers).toEqual({ a: '1', b: '2' });
  });

  it('returns what is not one of our errors as it is (a DOMException cannot be copied)', () => {
    expect(ownCopy('boom')).toBe('boom');
    const abort = new DOMException('The operation was aborted', 'AbortError');
    expect(ownCopy(abort)).toBe(abort);
  });
});

// Issue 13 item 4: with a failing leader and 5 identical concurrent requests, the followers received
// one shared error object, and each caller's layers wrote their headers into it: 4 followers answered
// with follower #5's traceparent and RateLimit values.
describe('coalesced callers of a failed flight', () => {
  it('each get their own error instance, untouched by the leader and the other followers', async () => {
    const policy = aiCachePolicy();
    let fail!: (error: unknown) => void;
    const upstream = (): Promise<AiResult> =>
      new Promise((_resolve, reject) => {
        fail = reject;
      });
    const calls = Array.from({ length: 5 }, () => policy.execute(ctx(), upstream));
    await tick();
    fail(new UpstreamError('Upstream answered 500', 500));
    const errors = await Promise.all(
      calls.map((call) =>
        call.then(
          () => {
            throw new Error('the call should have failed');
          },
          (error: UpstreamError) => error,
        ),
      ),
    );
    // What each caller's outer layers do with the error they got: add their own headers.
    errors.forEach((error, i) => {
      error.headers.caller = String(i);
    });
    expect(new Set(errors).size).toBe(5);
    expect(errors.map((error) => error.headers.caller)).toEqual(['0', '1', '2', '3', '4']);
    expect(errors.every((error) => isUpstreamError(error) && error.status === 502)).toBe(true);
  });

  it('each get their own error when a shared stream fails mid-way', async () => {
    const source = (async function* () {
      yield { n: 1 };
      throw new UpstreamError('Stream broke', 0);
    })();
    const recording = new StreamRecording(source, () => {});
    const readers = [recording.replay(), recording.replay(), recording.replay()];
    const errors = await Promise.all(
      readers.map(async (reader) => {
        try {
          for await (const _chunk of reader) {
            // read to the failure
          }
        } catch (error) {
          return error as UpstreamError;
        }
        throw new Error('the stream should have failed');
      }),
    );
    errors[0]!.headers.traceparent = 'first';
    expect(new Set(errors).size).toBe(3);
    expect(errors.map((error) => error.headers.traceparent)).toEqual(['first', undefined, undefined]);
    expect(errors.map((error) => error.message)).toEqual(['Stream broke', 'Stream broke', 'Stream broke']);
  });

  it('answer over HTTP with their own traceparent and RateLimit headers (one tenant, two keys)', async () => {
    let fail!: (error: unknown) => void;
    let upstreamCalls = 0;
    const upstream = (_ctx: CallContext): Promise<AiResult> => {
      upstreamCalls++;
      return new Promise((_resolve, reject) => {
        fail = reject;
      });
    };
    const app = new Hono();
    app.use(
      '/v1/*',
      // Two API keys of one tenant, as `[[api_keys]]` maps them.
      aiContext({ identify: () => ({ tenant: 'team-a', tier: 'free' }) }),
    );
    app.post(
      '/v1/chat/completions',
      aiHandler(
        upstream,
        [
          tierRateLimitPolicy({ tiers: { free: { requestsPerMinute: 100 } }, defaultTier: 'free' }),
          aiCachePolicy({ ttl: 60 }),
        ],
        { headers: rateLimitHeaders },
      ),
    );
    const send = (key: string) =>
      app.request('/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify(request),
      });
    const responses = [send('sk-a'), send('sk-b'), send('sk-a'), send('sk-b'), send('sk-a')];
    await tick();
    await tick();
    expect(upstreamCalls).toBe(1);
    fail(new UpstreamError('Upstream answered 500', 500));
    const answers = await Promise.all(
      (await Promise.all(responses)).map(async (response) => ({
        status: response.status,
        traceparent: response.headers.get('traceparent'),
        rateLimit: response.headers.get('ratelimit'),
        body: await response.json(),
      })),
    );
    expect(answers.map((answer) => answer.status)).toEqual([502, 502, 502, 502, 502]);
    // Five requests, five request spans, five limiter decisions: five different values of each.
    expect(new Set(answers.map((answer) => answer.traceparent)).size).toBe(5);
    expect(answers.every((answer) => answer.traceparent?.startsWith('00-'))).toBe(true);
    expect(new Set(answers.map((answer) => answer.rateLimit)).size).toBe(5);
  });
});
