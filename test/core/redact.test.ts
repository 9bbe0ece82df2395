import { afterEach, describe, expect, it } from 'vitest';
import { UpstreamError } from '../../src/core/errors.ts';
import { redactExcerpt, redactText, redactUrl, registerSecrets, urlSecrets } from '../../src/core/redact.ts';
import { redactRedisUrl } from '../../src/redis/url.ts';

const forgets: (() => void)[] = [];
afterEach(() => {
  for (const forget of forgets.splice(0)) forget();
});

describe('redactUrl: one redaction for every URL shown (issue 13 item 7)', () => {
  it.each([
    // A password holding `@` (the export regex stopped at the first `@` and showed the rest).
    ['redis://default:p@ss-REDISPASS-9@cache:6379', 'redis://default:***@cache:6379'],
    ['redis://:p@ss@cache:6379/0', 'redis://:***@cache:6379/0'],
    // `:` in the password, %-encoding, IPv6 hosts, TLS.
    ['rediss://app:a:b:c@cache.internal:6380', 'rediss://app:***@cache.internal:6380'],
    ['redis://app:p%40ss%3Aw0rd@[::1]:6379/2', 'redis://app:***@[::1]:6379/2'],
    ['rediss://user:secret@[2001:db8::7]:6380', 'rediss://user:***@[2001:db8::7]:6380'],
    // A username alone is the secret (`redis://password@host`).
    ['redis://s3cretpass@cache:6379', 'redis://***@cache:6379'],
    // Credential query parameters (provider base URLs), other parameters kept.
    [
      'https://llm.example/v1?key=AIzaSy123&api-version=2024-06-01',
      'https://llm.example/v1?key=***&api-version=2024-06-01',
    ],
    ['https://u:pw@llm.example/v1?access_token=abc', 'https://u:***@llm.example/v1?access_token=***'],
  ])('%s → %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });

  it.each([
    'redis://:pa/ss@cache:6379', // `/` ends the authority: unparsable
    'redis://:pa#ss@cache:6379',
    'redis://app:1234?rest-of-password@cache', // parses, with the password's tail in the query
    'redis://app:pw@cache#frag@more',
    'not a url s3cret-pass',
    '',
  ])('hides %j whole', (url) => {
    expect(redactUrl(url)).toBe('<redacted url>');
  });

  it('returns a URL with nothing to mask exactly as given', () => {
    for (const url of ['redis://cache:6379', 'http://127.0.0.1:8787', 'https://api.openai.com/v1']) {
      expect(redactUrl(url)).toBe(url);
    }
  });

  it('is what redactRedisUrl is (one function)', () => {
    expect(redactRedisUrl).toBe(redactUrl);
  });

  it('finds the password of a URL, raw and decoded, for registration', () => {
    expect(urlSecrets('redis://app:p%40ss@cache')).toEqual(['p%40ss', 'p@ss']);
    expect(urlSecrets('redis://default@cache')).toEqual([]);
    expect(urlSecrets('redis://cache:6379')).toEqual([]);
    expect(urlSecrets('garbage')).toEqual([]);
    expect(urlSecrets(undefined)).toEqual([]);
  });
});

describe('redactText: registered secrets and key shapes (issue 13 item 2)', () => {
  it('masks registered values in every serialized form, until they are forgotten', () => {
    const forget = registerSecrets(['my provider key!', undefined, 'short']);
    const text = `raw my provider key! url my%20provider%20key! json ${JSON.stringify('my provider key!')}`;
    expect(redactText(text)).toBe('raw *** url *** json "***"');
    // Too short to match safely: left alone (shape rules still apply).
    expect(redactText('short')).toBe('short');
    forget();
    forget(); // idempotent
    expect(redactText('my provider key!')).toBe('my provider key!');
  });

  it('keeps a value registered by two owners until both forget it', () => {
    const first = registerSecrets(['shared-token-value']);
    const second = registerSecrets(['shared-token-value']);
    first();
    expect(redactText('shared-token-value')).toBe('***');
    second();
    expect(redactText('shared-token-value')).toBe('shared-token-value');
  });

  it.each([
    ['Incorrect API key provided: sk-proj-abc123def456ghi.', 'Incorrect API key provided: ***.'],
    ['invalid x-api-key: sk-ant-api03-AbCdEf123456', 'invalid x-api-key: ***'],
    ['{"authorization":"Bearer abc.def-123"}', '{"authorization":"Bearer ***"}'],
    ['header api-key=0123456789abcdef', 'header api-key=***'],
    ['sent Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig', 'sent Bearer ***'],
    ['credentials Basic dXNlcjpwYXNzd29yZA==', 'credentials Basic ***'],
    ['key AIzaSyA1234567890abcdefghijklmnopqrstu', 'key ***'],
    [
      'fetch https://x.example/v1/models?key=abc123&alt=json failed',
      'fetch https://x.example/v1/models?key=***&alt=json failed',
    ],
    ['Redis redis://app:p@ss@cache:6379 is down', 'Redis redis://app:***@cache:6379 is down'],
    ['azure key 0123456789abcdef0123456789abcdef rejected', 'azure key *** rejected'],
    ['partial &token=abc123 in text', 'partial &token=*** in text'],
  ])('%j → %j', (text, expected) => {
    expect(redactText(text)).toBe(expected);
    expect(redactText(expected)).toBe(expected);
  });

  it.each([
    'The model `claude-3-5-sonnet-20241022-extended-v2` does not exist',
    'Bearer token is missing',
    'Basic authentication is not supported',
    'Rate limit reached for gpt-4o in organization org-abc123 on tokens per min (TPM): Limit 30000',
    'request 123e4567-e89b-12d3-a456-426614174000 failed',
    'local token in /tmp/alchemist-perf-1000/admin-8787.token',
    "Provider 'sim' answered 500: internal error",
    'url=http://127.0.0.1:8787',
  ])('leaves ordinary text alone: %j', (text) => {
    expect(redactText(text)).toBe(text);
  });

  it('masks before it cuts, so a secret across the cut does not leave half shown', () => {
    const forget = registerSecrets(['cut-right-here-secret']);
    forgets.push(forget);
    const text = `${'x'.repeat(290)} cut-right-here-secret`;
    expect(redactExcerpt(text)).toBe(`${'x'.repeat(290)} ***`);
    expect(redactExcerpt(text)).not.toContain('cut-right');
  });

  it('cuts the same as scrubbing the whole text, however much masking shrinks it', () => {
    forgets.push(registerSecrets(['registered-secret-at-the-cut']));
    const run = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8 '; // masked to `*** `: a tenth of its length
    const cases = [
      `${'x'.repeat(5000)}`,
      `${run.repeat(200)}registered-secret-at-the-cut`,
      `${run.repeat(2000)}registered-secret-at-the-cut tail`,
      `${'registered-secret-at-the-cut '.repeat(500)}`,
      `short registered-secret-at-the-cut`,
    ];
    for (const text of cases) {
      expect(redactExcerpt(text)).toBe(redactText(text).slice(0, 300));
      expect(redactExcerpt(text)).not.toContain('registered-secret');
    }
  });

  // Provider bodies and client input are untrusted: the first URL pattern took 9 s on 64 KiB of
  // `a.a.a…` (each `a` after a `.` started a scan to the end). 256 KiB of each shape, correct output.
  it.each([
    ['a.a.a…', 'a.'.repeat(131_072), 'a.'.repeat(131_072)],
    ['letters', 'a'.repeat(262_144), 'a'.repeat(262_144)],
    ['sk-sk-…', 'sk-'.repeat(87_381), '***'],
    ['JWT-ish', `eyJ${'a'.repeat(20)}.`.repeat(9999), '***.'.repeat(3333)],
    [
      'header names',
      `authorization${' '.repeat(50)}`.repeat(4000),
      `authorization${' '.repeat(50)}`.repeat(4000),
    ],
    ['schemes', 'Bearer '.repeat(37_000), 'Bearer '.repeat(37_000)],
    ['query keys', '?key'.repeat(65_536), '?key'.repeat(65_536)],
    ['scheme runs', 'ab+c.d-e'.repeat(32_768), 'ab+c.d-e'.repeat(32_768)],
  ])('scrubs 256 KiB of %s without backtracking', (_, text, expected) => {
    expect(redactText(text)).toBe(expected);
  });

  it('scrubs an UpstreamError message at construction, and every error body at render', () => {
    const error = new UpstreamError('Provider answered 400: bad key sk-live-0123456789abc', 400);
    expect(error.message).toBe('Provider answered 400: bad key ***');
    const forget = registerSecrets(['late-registered-secret']);
    forgets.push(forget);
    const late = new UpstreamError('echo late-registered-secret', 500);
    expect(late.toBody().error.message).toBe('echo ***');
  });
});
