import { beforeAll, describe, expect, it } from 'vitest';
import { createGateway, createLogger, parseConfig } from '../../src/gateway/index.ts';
import { freePort } from '../helpers/ports.ts';

// Regression (issue 13 item 7): /admin/export redacted the Redis URL with a regex that stopped at the
// first `@`, so a password holding one leaked (`redis://***@ss-REDISPASS-9@…`). It now goes through
// the one URL redaction (`redactUrl`), and so does each provider's base URL.

const ADMIN_TOKEN = 'admin-export-token-5e6f7a8b';
let port: number;
beforeAll(async () => {
  port = await freePort(); // nothing listens: the export must not depend on Redis being up
});

async function exported(redisUrl: string, baseUrl = 'https://llm.example/v1') {
  const config = parseConfig(
    `
[server]
host = "127.0.0.1"
[providers.llm]
type = "openai"
base_url = "${baseUrl}"
api_key_env = "LLM_KEY"
[ai_models.m]
provider = "llm"
`,
    { REDIS_URL: redisUrl, ADMIN_TOKEN, LLM_KEY: 'llm-key-0000-1111' },
  );
  const gateway = await createGateway(config, {
    telemetry: false,
    localAdminToken: false,
    logger: createLogger({ write: () => {} }),
  });
  try {
    const texts: string[] = [];
    for (const path of ['/admin/export', '/admin/stats', '/readyz']) {
      const response = await gateway.app.request(path, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      texts.push(await response.text());
    }
    const config = (
      JSON.parse(texts[0]!) as { config: { cache: { redisUrl: string }; providers: { base_url: string }[] } }
    ).config;
    return { redisUrl: config.cache.redisUrl, baseUrl: config.providers[0]!.base_url, all: texts.join('\n') };
  } finally {
    await gateway.stop();
  }
}

describe('/admin/export shows URLs without their secrets', () => {
  it.each([
    ['redis://default:p@ss-REDISPASS-9@127.0.0.1:PORT', 'redis://default:***@127.0.0.1:PORT'],
    ['rediss://app:a:b:REDISPASS@127.0.0.1:PORT/1', 'rediss://app:***@127.0.0.1:PORT/1'],
    ['redis://:p%40REDISPASS%3A@[::1]:PORT', 'redis://:***@[::1]:PORT'],
    ['redis://REDISPASS-as-user@127.0.0.1:PORT', 'redis://***@127.0.0.1:PORT'],
    // The password's tail lands in the query (host `localhost`, port 1): hidden whole.
    ['redis://localhost:1?REDISPASS@127.0.0.1:PORT', '<redacted url>'],
  ])('%s', async (hostile, shown) => {
    const result = await exported(hostile.replace('PORT', String(port)));
    expect(result.redisUrl).toBe(shown.replace('PORT', String(port)));
    expect(result.all).not.toMatch(/REDISPASS|p@ss|p%40/);
  });

  it('masks a key in a provider base URL', async () => {
    const result = await exported(
      `redis://127.0.0.1:${port}`,
      'https://llm.example/v1?key=AIzaSyBASEURLKEY0123456789&api-version=2024-06-01',
    );
    expect(result.redisUrl).toBe(`redis://127.0.0.1:${port}`);
    expect(result.baseUrl).toBe('https://llm.example/v1?key=***&api-version=2024-06-01');
    expect(result.all).not.toContain('BASEURLKEY');
  });
});
