import { describe, expect, it } from 'vitest';
import { headerOf } from '../../src/adapters/headers.ts';
import { fromJsonSafe, toJsonSafe } from '../../src/adapters/json-safe.ts';
import { withProperty } from '../../src/adapters/proxy.ts';
import { retryAfterSeconds } from '../../src/wire/http.ts';

describe('headerOf', () => {
  it('reads every header shape SDKs accept, case-insensitively', () => {
    expect(headerOf(new Headers({ 'Cache-Control': 'no-store' }), 'cache-control')).toBe('no-store');
    expect(headerOf({ 'CACHE-CONTROL': 'no-cache' }, 'cache-control')).toBe('no-cache');
    expect(headerOf({ 'cache-control': ['max-age=5', null, 'no-cache'] }, 'Cache-Control')).toBe(
      'max-age=5, no-cache',
    );
    expect(headerOf([['Cache-Control', 'no-store']], 'cache-control')).toBe('no-store');
    expect(headerOf({ values: new Headers({ 'cache-control': 'max-age=1' }) }, 'cache-control')).toBe(
      'max-age=1',
    );
    expect(headerOf(undefined, 'cache-control')).toBeUndefined();
    expect(headerOf({ other: 'x' }, 'cache-control')).toBeUndefined();
  });
});

describe('retryAfterSeconds', () => {
  it('prefers retry-after-ms, then delay-seconds, then an HTTP-date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterSeconds(new Headers({ 'retry-after-ms': '1500', 'retry-after': '9' }), now)).toBe(1.5);
    expect(retryAfterSeconds({ 'Retry-After': '7' }, now)).toBe(7);
    expect(retryAfterSeconds({ 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }, now)).toBe(30);
    expect(retryAfterSeconds({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(retryAfterSeconds({ 'retry-after': '-3' }, now)).toBeUndefined();
    expect(retryAfterSeconds(undefined, now)).toBeUndefined();
  });
});

describe('toJsonSafe / fromJsonSafe', () => {
  it('round-trips dates and bytes through JSON, drops what JSON cannot hold', () => {
    const value = {
      at: new Date('2026-05-06T07:08:09.000Z'),
      file: { data: new Uint8Array([0, 1, 254, 255]), url: new URL('https://example.com/a.png') },
      list: [1, 'two', null, undefined],
      skip: undefined,
      fn: () => 1,
      big: 10n,
      nan: Number.NaN,
    };
    const revived = fromJsonSafe(JSON.parse(JSON.stringify(toJsonSafe(value)))) as Record<string, unknown>;
    expect(revived.at).toEqual(value.at);
    expect(revived.file).toEqual({
      data: new Uint8Array([0, 1, 254, 255]),
      url: 'https://example.com/a.png',
    });
    expect(revived.list).toEqual([1, 'two', null, null]);
    expect(revived).not.toHaveProperty('skip');
    expect(revived).not.toHaveProperty('fn');
    expect(revived.big).toBe('10');
    expect(revived.nan).toBeNull();
  });
});

describe('withProperty', () => {
  it('overrides one property, keeps methods working on private fields, and never touches the target', () => {
    class Resource {
      #secret = 41;
      next() {
        return ++this.#secret;
      }
      get value() {
        return this.#secret;
      }
    }
    const target = new Resource();
    const view = withProperty(target, 'extra', 'yes');
    expect((view as unknown as { extra: string }).extra).toBe('yes');
    expect('extra' in view).toBe(true);
    expect('extra' in target).toBe(false);
    expect(view.next()).toBe(42);
    expect(view.value).toBe(42);
    expect(view.next).toBe(view.next);
  });
});
