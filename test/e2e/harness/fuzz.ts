import fc from 'fast-check';

/** A request as the fuzzer sends it: body bytes or text, and header pairs. */
export interface FuzzRequest {
  readonly body: string | Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
}

const MODELS = ['gpt-4o-mini', 'gpt-4o', 'claude-3-haiku', 'claude-3-sonnet'] as const;

/** Headers the transport owns; sending random values for them tests undici/node:http, not us. */
const TRANSPORT_HEADERS = new Set([
  'content-length',
  'transfer-encoding',
  'host',
  'connection',
  'keep-alive',
  'upgrade',
  'expect',
  'te',
  'trailer',
  'proxy-connection',
]);

const TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz";
/** An RFC 9110 token (header name). */
const headerName = fc
  .string({ unit: fc.constantFrom(...TCHAR.split('')), minLength: 1, maxLength: 24 })
  .filter((name) => !TRANSPORT_HEADERS.has(name));
/** A header value fetch accepts: visible ASCII and inner spaces, no surrounding whitespace. */
const headerValue = fc
  .string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 200 })
  .map((value) => value.trim());

const cacheControl = fc.oneof(
  fc.constantFrom('no-cache', 'no-store', 'max-age=0', 'max-age=60', 'max-age=-1', 'max-age=1e309'),
  fc.constantFrom('max-age="5"', 'max-age=abc', 'no-cache, no-store', ',,,', 'max-age', '=', 'NO-STORE'),
  headerValue,
);

const authorization = fc.oneof(
  fc
    .string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_'.split('')), minLength: 1 })
    .map((key) => `Bearer sk-fuzz-${key}`),
  fc.constantFrom('Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'bearer  x  y', 'Bearer\tabc', ''),
  headerValue,
);

/** Arbitrary request headers: the ones we interpret, plus unknown ones. */
export const headersArb: fc.Arbitrary<Record<string, string>> = fc
  .record(
    {
      authorization,
      'x-api-key': headerValue,
      'cache-control': cacheControl,
      'content-type': fc.oneof(
        fc.constantFrom(
          'application/json',
          'text/plain',
          'application/json; charset=latin1',
          'multipart/form-data',
        ),
        headerValue,
      ),
      'content-encoding': fc.constantFrom('gzip', 'br', 'identity', 'deflate'),
      accept: fc.constantFrom('text/event-stream', 'application/json', '*/*'),
      extra: fc.dictionary(headerName, headerValue, { maxKeys: 12 }),
    },
    { requiredKeys: [] },
  )
  .map(({ extra, ...known }) => {
    const headers: Record<string, string> = { ...extra };
    for (const [name, value] of Object.entries(known)) if (value !== undefined) headers[name] = value;
    return headers;
  });

/** JSON values of any shape, including the ones that break naive code (deep, proto keys, huge numbers). */
const jsonValue = fc.oneof(
  { depthSize: 'small' },
  fc.jsonValue({ maxDepth: 4 }),
  fc.constantFrom(null, 1e308, -0, Number.MAX_SAFE_INTEGER + 2, '', '\u0000', '\ud800', 'x'.repeat(5000)),
);

const message = fc.oneof(
  fc.record(
    {
      role: fc.oneof(fc.constantFrom('user', 'system', 'assistant', 'tool', 'developer'), fc.string()),
      content: fc.oneof(
        fc.string({ maxLength: 300 }),
        fc.array(fc.record({ type: fc.constantFrom('text', 'image_url'), text: fc.string() }), {
          maxLength: 3,
        }),
        jsonValue,
      ),
      name: fc.string({ maxLength: 20 }),
    },
    { requiredKeys: ['role'] },
  ),
  jsonValue,
);

/** An object that looks like a chat request, with every field possibly of the wrong type, plus unknown keys. */
const chatLike = fc
  .record(
    {
      model: fc.oneof(fc.constantFrom(...MODELS), fc.string({ maxLength: 300 }), jsonValue),
      messages: fc.oneof(fc.array(message, { maxLength: 6 }), jsonValue),
      stream: fc.oneof(fc.boolean(), jsonValue),
      temperature: fc.oneof(fc.double(), jsonValue),
      top_p: fc.oneof(fc.double(), jsonValue),
      max_tokens: fc.oneof(fc.integer(), jsonValue),
      n: fc.oneof(fc.integer({ min: -2, max: 5 }), jsonValue),
      stream_options: fc.oneof(fc.record({ include_usage: fc.boolean() }), jsonValue),
      tools: jsonValue,
      user: fc.string(),
      unknown: fc.dictionary(fc.string({ maxLength: 12 }), jsonValue, { maxKeys: 5 }),
    },
    { requiredKeys: [] },
  )
  .map(({ unknown, ...fields }) => JSON.stringify({ ...unknown, ...fields }));

const hostile = fc.constantFrom(
  '{"model":"gpt-4o-mini","__proto__":{"polluted":true},"messages":[]}',
  '{"model":"gpt-4o-mini","constructor":{"prototype":{"polluted":true}},"messages":[]}',
  '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"model":"gpt-4o"}',
  '{"model":"gpt-4o-mini","stream":"true"}',
  '{"model":"   "}',
  '[]',
  'null',
  '"model"',
  '',
  '\uFEFF{"model":"gpt-4o-mini"}',
  `{"model":"gpt-4o-mini","messages":${'['.repeat(5000)}${']'.repeat(5000)}}`,
  `{"model":"gpt-4o-mini","messages":[{"role":"user","content":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}]}`,
  '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"\\ud800\\udfff\\ud800"}]}',
);

/** Request bodies: chat-like objects, arbitrary JSON, arbitrary text, raw bytes (often invalid UTF-8). */
export const bodyArb: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  { weight: 5, arbitrary: chatLike },
  { weight: 2, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 400 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 400 }) },
  { weight: 1, arbitrary: hostile },
  {
    weight: 1,
    arbitrary: fc
      .tuple(chatLike, fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.nat())
      .map(([json, junk, at]) => {
        const bytes = new TextEncoder().encode(json);
        const cut = at % (bytes.length + 1);
        const out = new Uint8Array(bytes.length + junk.length);
        out.set(bytes.subarray(0, cut));
        out.set(
          junk.map((b) => b | 0x80),
          cut,
        );
        out.set(bytes.subarray(cut), cut + junk.length);
        return out;
      }),
  },
);

export const requestArb: fc.Arbitrary<FuzzRequest> = fc.record({ body: bodyArb, headers: headersArb });

/** Number of fuzz cases: `ALCHEMIST_FUZZ_RUNS` when set (test:chaos raises it), else the default. */
export function fuzzRuns(defaultRuns: number): number {
  const raw = Number(process.env.ALCHEMIST_FUZZ_RUNS);
  return Number.isInteger(raw) && raw > 0 ? raw : defaultRuns;
}

/**
 * The invariant every reply must satisfy: never a 5xx of our own making, and every error an
 * OpenAI-style JSON body with string `message`, `type` and `code`. Returns a reason when violated.
 */
export function violation(status: number, contentType: string, text: string): string | undefined {
  if (status >= 500) return `status ${status}: ${text.slice(0, 300)}`;
  if (status < 400) return undefined;
  if (!contentType.includes('json')) return `error ${status} with content-type '${contentType}'`;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `error ${status} body is not JSON: ${text.slice(0, 200)}`;
  }
  const error = (body as { error?: Record<string, unknown> } | null)?.error;
  if (
    typeof error?.message !== 'string' ||
    typeof error.type !== 'string' ||
    typeof error.code !== 'string'
  ) {
    return `error ${status} body is not {"error":{"message","type","code"}}: ${text.slice(0, 200)}`;
  }
  return undefined;
}

/**
 * Requests that pass validation (a configured model, well-formed messages) with fuzzed optional
 * fields, unknown keys and headers, so the fuzzer reaches the limiter, cache, breaker and proxy.
 */
export function validRequestArb(models: readonly string[]): fc.Arbitrary<FuzzRequest> {
  const body = fc
    .record(
      {
        model: fc.constantFrom(...models),
        messages: fc.array(
          fc.record({
            role: fc.constantFrom('user', 'system', 'assistant'),
            content: fc.string({ unit: 'grapheme', maxLength: 200 }),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        stream: fc.boolean(),
        temperature: fc.oneof(fc.double({ min: 0, max: 2, noNaN: true }), jsonValue),
        max_tokens: fc.oneof(fc.integer({ min: 1, max: 64 }), jsonValue),
        stream_options: fc.oneof(fc.record({ include_usage: fc.boolean() }), jsonValue),
        unknown: fc.dictionary(fc.string({ maxLength: 12 }), jsonValue, { maxKeys: 4 }),
      },
      { requiredKeys: ['model', 'messages'] },
    )
    .map(({ unknown, ...fields }) => JSON.stringify({ ...unknown, ...fields }));
  return fc.record({
    body,
    headers: headersArb.map((headers) => ({ ...headers, 'content-type': 'application/json' })),
  });
}
