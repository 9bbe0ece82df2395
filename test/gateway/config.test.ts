import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_TIERS, loadConfig, parseConfig } from '../../src/gateway/config/index.ts';

const SEED = `[cache]
redis_url = "redis://localhost:6379"
default_ttl = 3600
max_memory_items = 10000

[ai_models.claude-3-sonnet]
rate_limit = 100  # requests per minute
`;

function problems(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(text, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('config: loading', () => {
  it('loads the seed example from DESIGN.md as is', () => {
    const config = parseConfig(SEED, {});
    expect(config.cache).toEqual({
      enabled: true,
      redisUrl: 'redis://localhost:6379',
      redisTimeoutMs: 50,
      defaultTtlSeconds: 3600,
      maxMemoryItems: 10000,
    });
    expect(config.models['claude-3-sonnet']).toMatchObject({ rateLimit: 100 });
    // No provider configured: the embedded simulator answers.
    expect(config.simulator.enabled).toBe(true);
  });

  it('loads the commented example file shipped in the repository', () => {
    const config = loadConfig({ path: 'alchemist.example.toml', env: {} });
    expect(config.source).toBe('alchemist.example.toml');
    expect(config.models['gpt-4o-mini']?.fallbacks).toEqual(['gpt-4o']);
    expect(Object.keys(config.providers).sort()).toEqual(['anthropic', 'openai']);
  });

  it('gives embedded defaults with no file at all', () => {
    const config = loadConfig({ env: {} });
    expect(config.server).toEqual({
      host: '127.0.0.1',
      port: 8787,
      maxBodyBytes: 1048576,
      shutdownTimeoutMs: 10000,
    });
    expect(config.cache.redisUrl).toBeUndefined();
    expect(config.tiers).toEqual(DEFAULT_TIERS);
    expect(config.simulator.enabled).toBe(true);
    expect(config.source).toBeUndefined();
  });

  it('reads every documented key', () => {
    const config = parseConfig(
      `
[server]
port = 9000
host = "0.0.0.0"
[cache]
enabled = false
redis_url = "redis://127.0.0.1:6390"
redis_timeout_ms = 200
default_ttl = 60
max_memory_items = 5
[rate_limit]
multiplier = 0.5
default_tier = "gold"
instances = 2
[tiers.gold]
requests_per_minute = 10
tokens_per_minute = 1000
max_concurrent = 2
[[api_keys]]
key = "sk-test-abcdef"
tenant = "team-a"
tier = "gold"
[providers.local]
type = "openai"
base_url = "http://127.0.0.1:11434/v1/"
api_key_env = "LOCAL_KEY"
[providers.claude]
type = "anthropic"
base_url = "https://api.anthropic.com"
api_key_env = "CLAUDE_KEY"
[ai_models."llama3"]
provider = "local"
rate_limit = 30
tokens_per_minute = 9000
max_concurrent = 3
[breaker]
failure_threshold = 4
half_open_after = 15
timeout = 20
max_retries = 1
provider_min_models = 3
`,
      { LOCAL_KEY: 'sk-local-1', CLAUDE_KEY: 'sk-claude-2' },
    );
    expect(config.server).toMatchObject({ port: 9000, host: '0.0.0.0' });
    expect(config.cache).toEqual({
      enabled: false,
      redisUrl: 'redis://127.0.0.1:6390',
      redisTimeoutMs: 200,
      defaultTtlSeconds: 60,
      maxMemoryItems: 5,
    });
    expect(config.rateLimit).toEqual({ multiplier: 0.5, defaultTier: 'gold', instances: 2 });
    expect(config.tiers).toEqual({
      gold: { requestsPerMinute: 10, tokensPerMinute: 1000, maxConcurrent: 2 },
    });
    expect(config.apiKeys[0]).toMatchObject({ tenant: 'team-a', tier: 'gold' });
    expect(config.apiKeys[0]?.key.reveal()).toBe('sk-test-abcdef');
    expect(config.providers.local).toMatchObject({
      type: 'openai',
      baseUrl: 'http://127.0.0.1:11434/v1',
      apiKeyEnv: 'LOCAL_KEY',
    });
    expect(config.providers.local?.apiKey?.reveal()).toBe('sk-local-1');
    expect(config.providers.claude?.apiKey?.reveal()).toBe('sk-claude-2');
    // Declared providers replace the built-in ones.
    expect(Object.keys(config.providers).sort()).toEqual(['claude', 'local']);
    expect(config.models.llama3).toEqual({
      provider: 'local',
      rateLimit: 30,
      tokensPerMinute: 9000,
      maxConcurrent: 3,
      fallbacks: [],
    });
    expect(config.breaker).toEqual({
      failureThreshold: 4,
      halfOpenAfterSeconds: 15,
      timeoutSeconds: 20,
      maxRetries: 1,
      providerMinModels: 3,
    });
    expect(config.simulator.enabled).toBe(false);
    expect(Object.isFrozen(config.server)).toBe(true);
  });

  it('applies env overrides over the file', () => {
    const config = parseConfig(SEED, {
      PORT: '9999',
      REDIS_URL: 'redis://10.0.0.1:6379',
      CACHE_ENABLED: 'false',
      RATE_LIMIT_MULTIPLIER: '2.5',
      RATE_LIMIT_INSTANCES: '3',
      ADMIN_TOKEN: 'admin-secret-1',
      OPENAI_BASE_URL: 'http://127.0.0.1:4000/v1',
      OPENAI_API_KEY: 'sk-env-openai',
      OTEL_EXPORTER_PROMETHEUS_PORT: '9470',
      OTEL_SERVICE_NAME: 'gw-test',
    });
    expect(config.server.port).toBe(9999);
    expect(config.cache.redisUrl).toBe('redis://10.0.0.1:6379');
    expect(config.cache.enabled).toBe(false);
    expect(config.rateLimit.multiplier).toBe(2.5);
    expect(config.rateLimit.instances).toBe(3);
    expect(config.admin.token?.reveal()).toBe('admin-secret-1');
    expect(config.providers.openai).toMatchObject({ type: 'openai', baseUrl: 'http://127.0.0.1:4000/v1' });
    expect(config.providers.openai?.apiKey?.reveal()).toBe('sk-env-openai');
    expect(config.telemetry).toMatchObject({ prometheusPort: 9470, serviceName: 'gw-test' });
    // A real provider in the environment turns the simulator off.
    expect(config.simulator.enabled).toBe(false);
  });

  it('reads ALCHEMIST_CONFIG when no path is given', () => {
    const dir = mkdtempSync(join(tmpdir(), 'alchemist-config-'));
    const file = join(dir, 'gw.toml');
    writeFileSync(file, '[server]\nport = 7001\n');
    expect(loadConfig({ env: { ALCHEMIST_CONFIG: file } }).server.port).toBe(7001);
  });

  it('never prints secrets when the config is logged or serialised', () => {
    const config = parseConfig('[[api_keys]]\nkey = "sk-very-secret-key"\ntenant = "t"\n', {
      ADMIN_TOKEN: 'admin-very-secret',
      OPENAI_API_KEY: 'sk-provider-secret',
    });
    const printed = `${JSON.stringify(config)} ${inspect(config, { depth: 10 })}`;
    for (const secret of ['sk-very-secret-key', 'admin-very-secret', 'sk-provider-secret']) {
      expect(printed).not.toContain(secret);
    }
    expect(printed).toContain('[redacted]');
  });
});

describe('config: errors name the key, the value and what was expected', () => {
  it('rejects a negative tier limit', () => {
    expect(problems('[tiers.free]\nrequests_per_minute = -5\n')).toEqual([
      'config error: tiers.free.requests_per_minute = -5: expected a positive integer',
    ]);
  });

  it('rejects a [breaker] provider_min_models below 1', () => {
    expect(problems('[breaker]\nprovider_min_models = 0\n')).toEqual([
      'config error: breaker.provider_min_models = 0: expected a positive integer',
    ]);
  });

  it('names the environment variable a bad value came from', () => {
    expect(problems('', { RATE_LIMIT_MULTIPLIER: 'fast' })).toEqual([
      'config error: rate_limit.multiplier = "fast" (from RATE_LIMIT_MULTIPLIER): expected a positive number',
    ]);
    expect(problems('', { PORT: '70000' })).toEqual([
      'config error: server.port = 70000 (from PORT): expected a port number 0-65535',
    ]);
    expect(problems('', { CACHE_ENABLED: 'maybe' })[0]).toContain(
      'cache.enabled = "maybe" (from CACHE_ENABLED): expected true or false',
    );
  });

  it('rejects unknown keys with a did-you-mean hint', () => {
    const found = problems('[cache]\nenabeld = true\n[ratelimit]\nmultiplier = 2\n');
    expect(found[0]).toMatch(/^config error: unknown key cache\.enabeld: did you mean cache\.enabled\?/);
    expect(found[1]).toMatch(/^config error: unknown key ratelimit: did you mean rate_limit\?/);
    expect(problems('[ai_models.gpt-4o]\nratelimit = 5\n')[0]).toContain(
      'did you mean ai_models.gpt-4o.rate_limit?',
    );
  });

  it('checks types, enums and URLs', () => {
    expect(problems('[providers.x]\ntype = "azure"\n')).toEqual([
      'config error: providers.x.type = "azure": expected "openai" or "anthropic"',
    ]);
    expect(problems('[providers.x]\nbase_url = "http://x"\n')[0]).toBe(
      'config error: providers.x.type is missing: expected "openai" or "anthropic"',
    );
    expect(problems('[cache]\nredis_url = "http://nope"\n')[0]).toContain(
      'expected a redis:// or rediss:// URL',
    );
    expect(problems('[cache]\ndefault_ttl = "1h"\n')[0]).toBe(
      'config error: cache.default_ttl = "1h": expected a positive integer',
    );
  });

  it('checks references between sections', () => {
    expect(problems('[[api_keys]]\nkey = "sk-abcdefgh"\ntenant = "a"\ntier = "gold"\n')).toEqual([
      'config error: api_keys[0].tier = "gold": expected one of the tiers: free, pro, enterprise',
    ]);
    expect(problems('[ai_models."gpt-4o"]\nprovider = "nope"\n')).toEqual([
      'config error: ai_models.gpt-4o.provider = "nope": expected one of the providers: openai, anthropic',
    ]);
    expect(problems('[tiers.gold]\nrequests_per_minute = 5\n')).toEqual([
      'config error: rate_limit.default_tier = "free": expected one of the tiers: gold',
    ]);
  });

  it('never echoes an API key in an error', () => {
    const found = problems('[[api_keys]]\nkey = "short"\ntenant = "a"\n');
    expect(found[0]).toBe('config error: api_keys[0].key = "<redacted>": expected a key of 8+ characters');
  });

  it('never echoes a Redis password or a key-shaped value in an error', () => {
    // Regression (issue 13 item 7): the bad value was printed as is, password included.
    expect(problems('', { REDIS_URL: 'http://app:p@ss-REDISPASS-9@cache:6379' })).toEqual([
      'config error: cache.redis_url = "http://app:***@cache:6379/" (from REDIS_URL): expected a redis:// or rediss:// URL',
    ]);
    const found = problems('[providers.x]\ntype = "openai"\napi_key_env = "sk-proj-0123456789abcdef"\n');
    expect(found.join('\n')).not.toContain('0123456789abcdef');
  });

  it('reports TOML syntax errors with the line, and a missing file', () => {
    expect(problems('[server]\nport = \n')[0]).toMatch(/^config error: config:2 is not valid TOML/);
    expect(() => loadConfig({ path: '/nonexistent/alchemist.toml', env: {} })).toThrow(
      'config error: cannot read config file /nonexistent/alchemist.toml: no such file',
    );
  });
});
