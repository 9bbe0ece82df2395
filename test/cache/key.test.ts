import { describe, expect, it } from 'vitest';
import { cacheKey, canonicalJson, scopePrefix } from '../../src/cache/key.ts';
import { createCallContext } from '../../src/core/context.ts';

const ctx = (request: Record<string, unknown>, extra: { tenant?: string; provider?: string } = {}) =>
  createCallContext({
    provider: extra.provider ?? 'openai',
    model: String(request.model),
    request,
    ...extra,
  });
const key = (request: Record<string, unknown>, tenant = 't1', provider = 'openai') =>
  cacheKey('ns', tenant, ctx(request, { tenant, provider }));

const base = {
  model: 'gpt-4o',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hi' },
  ],
  temperature: 0.2,
  max_tokens: 50,
};

describe('cache keys', () => {
  it('ignore key order and JSON formatting', () => {
    const reordered = JSON.parse(
      `{ "max_tokens": 50,\n  "temperature": 0.2, "messages": [ {"content": "Be brief.", "role": "system"},
        {"content":"Hi","role":"user"} ], "model": "gpt-4o" }`,
    );
    expect(key(reordered)).toBe(key(base));
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 1, x: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"x":2,"y":1}]},"b":1}',
    );
  });

  it('serialise edge values exactly as before (keys stored earlier stay readable)', () => {
    expect(canonicalJson({ z: undefined, y: 'a"b\\', x: [undefined, null, 1.5, true] })).toBe(
      '{"x":[null,null,1.5,true],"y":"a\\"b\\\\"}',
    );
    // biome-ignore lint/suspicious/noSparseArray: a hole must keep its old, empty rendering
    expect(canonicalJson([1, , 3])).toBe('[1,,3]');
    expect(canonicalJson([])).toBe('[]');
    expect(canonicalJson({})).toBe('{}');
    expect(canonicalJson({ a: undefined })).toBe('{}');
    expect(canonicalJson('text')).toBe('"text"');
    expect(canonicalJson(undefined)).toBe('null');
  });

  it('order keys as sort() does, for small objects (sorted in place) and large ones', () => {
    const reference = (value: unknown): string => {
      if (value === null || typeof value !== 'object') return JSON.stringify(value);
      if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
      const record = value as Record<string, unknown>;
      const names = Object.keys(record).sort();
      return `{${names.map((name) => `${JSON.stringify(name)}:${reference(record[name])}`).join(',')}}`;
    };
    const alphabet = ['a', 'B', 'b', '_', '10', '2', 'é', 'ä', 'Z', '😀', 'aa', ''];
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (const size of [0, 1, 2, 3, 5, 8, 15, 16, 17, 40]) {
      const record: Record<string, unknown> = {};
      for (let i = 0; i < size; i++) {
        const name = `${alphabet[Math.floor(random() * alphabet.length)]}${alphabet[Math.floor(random() * alphabet.length)]}${i % 3 === 0 ? i : ''}`;
        record[name] = i % 4 === 0 ? { y: i, x: [i] } : i;
      }
      expect(canonicalJson(record)).toBe(reference(record));
    }
  });

  it('change with every output-changing field', () => {
    const variants = [
      { ...base, temperature: 0.3 },
      { ...base, top_p: 0.9 },
      { ...base, max_tokens: 51 },
      { ...base, seed: 7 },
      { ...base, response_format: { type: 'json_object' } },
      { ...base, tools: [{ type: 'function', function: { name: 'f' } }] },
      { ...base, messages: [{ role: 'user', content: 'Hi ' }] },
      { ...base, model: 'gpt-4o-mini' },
      { ...base, stream: true },
    ];
    const keys = new Set([key(base), ...variants.map((v) => key(v))]);
    expect(keys.size).toBe(variants.length + 1);
    expect(key(base, 't1', 'anthropic')).not.toBe(key(base));
  });

  it('ignore fields that do not change the answer, and top-level nulls', () => {
    expect(key({ ...base, user: 'u-123', metadata: { a: 1 }, store: true })).toBe(key(base));
    expect(key({ ...base, seed: null })).toBe(key(base));
    expect(key({ ...base, stream: false })).toBe(key(base));
  });

  it('keep tenants apart, with the tenant scope as a clearable prefix', () => {
    const a = key(base, 'tenant-a');
    const b = key(base, 'tenant-b');
    expect(a).not.toBe(b);
    expect(a.startsWith(scopePrefix('ns', 'tenant-a'))).toBe(true);
    expect(b.startsWith(scopePrefix('ns', 'tenant-a'))).toBe(false);
    expect(a).toMatch(/^ns:[0-9a-f]{16}:[0-9a-f]{64}$/);
    expect(a).not.toContain('tenant-a');
  });

  it('hash a custom identity with the scope', () => {
    const c = ctx(base);
    expect(cacheKey('ns', 't1', c, 'faq-1')).toBe(cacheKey('ns', 't1', ctx({ model: 'x' }), 'faq-1'));
    expect(cacheKey('ns', 't1', c, 'faq-1')).not.toBe(cacheKey('ns', 't2', c, 'faq-1'));
  });
});
