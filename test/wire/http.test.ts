import { describe, expect, it } from 'vitest';
import { capacityPauseMs, headerLookup, retryAfterMs, statusFault } from '../../src/wire/http.ts';

const now = Date.parse('2026-01-01T00:00:00Z');

describe('provider HTTP capacity headers (one parser, milliseconds)', () => {
  it('reads retry-after-ms first, then Retry-After seconds or date, from any header shape', () => {
    expect(retryAfterMs(headerLookup({ 'retry-after-ms': '250', 'retry-after': '9' }), now)).toBe(250);
    expect(retryAfterMs(headerLookup(new Headers({ 'Retry-After': '2' })), now)).toBe(2000);
    expect(retryAfterMs(headerLookup({ 'Retry-After': '1.5' }), now)).toBe(1500);
    expect(retryAfterMs(headerLookup({ 'retry-after': ['3', '4'] }), now)).toBeUndefined();
    expect(retryAfterMs(headerLookup({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), now)).toBe(5000);
    expect(retryAfterMs(headerLookup({ 'retry-after': 'Wed, 31 Dec 2025 23:00:00 GMT' }), now)).toBe(0);
    expect(retryAfterMs(headerLookup({ 'retry-after': '-3' }), now)).toBeUndefined();
    expect(retryAfterMs(headerLookup(undefined), now)).toBeUndefined();
  });

  it('pauses until an exhausted OpenAI or Anthropic limit resets', () => {
    const get = headerLookup({
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '1m30s',
      'x-ratelimit-remaining-tokens': '0',
      'x-ratelimit-reset-tokens': '20ms',
    });
    expect(capacityPauseMs(get, now, 1000)).toBe(90_000);
    const anthropic = headerLookup({
      'anthropic-ratelimit-requests-remaining': '0',
      'anthropic-ratelimit-requests-reset': '2026-01-01T00:00:12Z',
    });
    expect(capacityPauseMs(anthropic, now, 1000)).toBe(12_000);
    expect(capacityPauseMs(headerLookup({ 'x-ratelimit-remaining-tokens': '0' }), now, 1000)).toBe(1000);
    expect(
      capacityPauseMs(headerLookup({ 'x-ratelimit-remaining-tokens': '40' }), now, 1000),
    ).toBeUndefined();
  });

  it('calls 429 and 5xx the provider’s condition, other statuses not', () => {
    expect([429, 500, 503, 599, 400, 401, 404, 200].map(statusFault)).toEqual([
      '429',
      '5xx',
      '5xx',
      '5xx',
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});
