import { describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  BadRequestError,
  CircuitOpenError,
  errorTypeOf,
  isCircuitOpenError,
  isRateLimitedError,
  OverloadedError,
  PayloadTooLargeError,
  RateLimitedError,
  toErrorResponse,
  UpstreamError,
  UpstreamTimeoutError,
} from '../../src/core/errors.ts';

describe('error mapping', () => {
  it.each([
    [new BadRequestError('bad json', 'invalid_json'), 400, 'invalid_request_error', 'invalid_json'],
    [new AuthenticationError(), 401, 'authentication_error', 'invalid_api_key'],
    [new PayloadTooLargeError(1024), 413, 'invalid_request_error', 'payload_too_large'],
    [
      new RateLimitedError('slow down', 'tier', { retryAfter: 2.2 }),
      429,
      'rate_limit_error',
      'rate_limited_tier',
    ],
    [new OverloadedError('queue full', { retryAfter: 1 }), 503, 'service_unavailable', 'upstream_capacity'],
    [new CircuitOpenError('openai/gpt-4o', { retryAfter: 10 }), 503, 'service_unavailable', 'circuit_open'],
    [new UpstreamTimeoutError('total', 30_000), 504, 'timeout_error', 'timeout_total'],
    [new UpstreamError('bad gateway', 500), 502, 'upstream_error', 'bad_upstream_response'],
    [new UpstreamError('provider limited', 429, { retryAfter: 3 }), 429, 'rate_limit_error', 'upstream_429'],
    [new UpstreamError('bad param', 400), 400, 'invalid_request_error', 'upstream_400'],
    // Regression (issue 13 item 2): the provider refusing the gateway's own key is not the client's 401.
    [new UpstreamError('key refused', 401), 502, 'upstream_error', 'upstream_auth'],
    [new UpstreamError('no access', 403), 502, 'upstream_error', 'upstream_auth'],
  ])('%s maps to %i', (error, status, type, code) => {
    const response = toErrorResponse(error);
    expect(response.status).toBe(status);
    expect(response.body).toEqual({ error: { message: error.message, type, code } });
    expect(response.headers['content-type']).toBe('application/json');
  });

  it('sends Retry-After as whole seconds, rounded up', () => {
    const error = new RateLimitedError('slow down', 'tier', { retryAfter: 2.2, headers: { RateLimit: 'x' } });
    expect(toErrorResponse(error).headers).toMatchObject({ 'retry-after': '3', RateLimit: 'x' });
  });

  it('puts Retry-After on every 429 and 503, 1 s when none is known (a provider 429 without one)', () => {
    expect(new UpstreamError('Provider answered 429', 429).responseHeaders()['retry-after']).toBe('1');
    expect(new OverloadedError('queue full').responseHeaders()['retry-after']).toBe('1');
    expect(
      new UpstreamError('Provider answered 429', 429, { retryAfter: 7 }).responseHeaders(),
    ).toMatchObject({
      'retry-after': '7',
    });
    expect(new BadRequestError('bad').responseHeaders()['retry-after']).toBeUndefined();
    expect(new UpstreamError('Provider answered 500', 500).responseHeaders()['retry-after']).toBeUndefined();
  });

  it('renders itself for Hono through getResponse()', async () => {
    const response = new CircuitOpenError('openai', { retryAfter: 5 }).getResponse();
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(await response.json()).toMatchObject({ error: { code: 'circuit_open' } });
  });

  it('hides unknown errors behind a generic 500', () => {
    const response = toErrorResponse(new Error('secret connection string redis://user:pw@host'));
    expect(response.status).toBe(500);
    expect(JSON.stringify(response.body)).not.toContain('redis://');
  });

  it('guards work across copies of the package (brands, not instanceof)', () => {
    const foreign = Object.assign(Object.create(null), {
      [Symbol.for('alchemist-perf.RateLimitedError')]: true,
    });
    expect(isRateLimitedError(foreign)).toBe(true);
    expect(isRateLimitedError(new CircuitOpenError('x'))).toBe(false);
    expect(isCircuitOpenError(new CircuitOpenError('x'))).toBe(true);
    expect(isCircuitOpenError(undefined)).toBe(false);
  });

  it('keeps the cause but never sends it', () => {
    const cause = new Error('ECONNRESET');
    const error = new UpstreamError('upstream failed', 0, { cause });
    expect(error.cause).toBe(cause);
    expect(JSON.stringify(toErrorResponse(error).body)).not.toContain('ECONNRESET');
  });

  it('gives error.type from the class or code, never the message', () => {
    expect(errorTypeOf(new UpstreamError('x', 503))).toBe('503');
    expect(errorTypeOf(new UpstreamTimeoutError('idle', 10))).toBe('timeout_idle');
    expect(errorTypeOf(new TypeError('user text'))).toBe('TypeError');
    expect(errorTypeOf('string')).toBe('_OTHER');
  });
});
