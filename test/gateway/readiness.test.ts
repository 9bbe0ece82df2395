import { request } from 'undici';
import { describe, expect, it, vi } from 'vitest';
import { createGateway, loadConfig, silentLogger } from '../../src/gateway/index.ts';
import { tokenizerLoaded } from '../../src/ratelimit/index.ts';
import { freePort } from '../helpers/ports.ts';

// Regression (issue 13, item 12): /readyz said ready before the tokenizer had loaded, so the first
// token-limited requests waited ~650 ms for it. The tokenizer's import is held here until the test
// lets it go, to see what /readyz says meanwhile.
let releaseTokenizer: () => void = () => {};
const tokenizerGate = new Promise<void>((resolve) => {
  releaseTokenizer = resolve;
});
vi.mock('gpt-tokenizer', async (importOriginal) => {
  await tokenizerGate;
  return importOriginal();
});

async function gatewayWith(tiers: string) {
  const port = await freePort();
  const gateway = await createGateway(
    loadConfig({
      env: {},
      text: `[server]\nhost = "127.0.0.1"\nport = ${port}\n[telemetry]\nprometheus_port = false\n${tiers}`,
    }),
    { telemetry: false, logger: silentLogger, localAdminToken: false },
  );
  return { gateway, url: `http://127.0.0.1:${port}` };
}

/**
 * GET on a new connection each time: a kept-alive one can time out on the server's side while its
 * event loop is busy loading the tokenizer, and reusing it then fails with ECONNRESET.
 */
async function get(url: string) {
  const response = await request(url, { reset: true });
  return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> };
}
const readyz = (url: string) => get(`${url}/readyz`);

describe('/readyz and the tokenizer (issue 13 #12)', () => {
  it('needs no tokenizer without token limits: ready at once, nothing loaded', async () => {
    const { gateway, url } = await gatewayWith('[tiers.free]\nrequests_per_minute = 60\n');
    await gateway.start();
    expect(await readyz(url)).toMatchObject({
      status: 200,
      body: { status: 'ready', tokenizer: 'not_needed' },
    });
    expect(tokenizerLoaded()).toBe(false);
    await gateway.stop();
  });

  it('with token limits, is 503 while the tokenizer loads (saying so), and ready once it has', async () => {
    const { gateway, url } = await gatewayWith(
      '[tiers.free]\nrequests_per_minute = 60\ntokens_per_minute = 100000\n',
    );
    let started = false;
    const starting = gateway.start().then(() => {
      started = true;
    });
    // Listening (and alive) while the tokenizer is still held back.
    await vi.waitUntil(
      () =>
        fetch(`${url}/healthz`).then(
          (r) => r.ok,
          () => false,
        ),
      { timeout: 10_000 },
    );
    expect(await readyz(url)).toMatchObject({
      status: 503,
      body: {
        status: 'starting',
        tokenizer: 'loading',
        reason: 'loading the tokenizer (token limits are on)',
      },
    });
    expect(started).toBe(false);

    releaseTokenizer();
    await starting;
    expect(tokenizerLoaded()).toBe(true);
    const ready = await readyz(url);
    expect(ready).toMatchObject({ status: 200, body: { status: 'ready', tokenizer: 'loaded' } });
    expect(ready.body.reason).toBeUndefined();
    await gateway.stop();
  });
});
