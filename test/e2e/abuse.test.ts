import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway.ts';
import { freePort } from '../helpers/ports.ts';
import { gatewayConfig } from './harness/config.ts';
import { expectNoSecrets, stopAndCollect } from './harness/emitted.ts';
import { requestArb, validRequestArb, violation } from './harness/fuzz.ts';
import { chat, chatBody, errorCode } from './harness/http.ts';
import { heapAfterGc } from './harness/inspector.ts';
import { mapConcurrent } from './harness/load.ts';
import { rawPost, rawRequest } from './harness/raw.ts';
import { type ScannedText, SecretScanner } from './harness/secrets.ts';

// Bad input over real sockets against a real gateway process: oversized and lying bodies, deep JSON,
// invalid UTF-8, thousands of headers, slow clients, unknown keys, and fuzzed bodies and headers.
// The gateway must answer every one with a 4xx (or a 2xx) and keep serving.

const MAX_BODY = 64 * 1024;
const scanner = new SecretScanner();
const PROVIDER_KEY = scanner.add('provider key', 'sk-provider-abuse-6f5e4d3c');
const KEY = scanner.add('client key', 'sk-client-abuse-2b3c4d5e');
const ADMIN = scanner.add('admin token', 'admin-token-abuse-8a9b0c1d');

let sim: Simulator;
let gateway: GatewayProcess;
let inspectPort: number;
const emitted: ScannedText[] = [];

beforeAll(async () => {
  sim = await startSimulator({ apiKey: PROVIDER_KEY });
  inspectPort = await freePort();
  gateway = await startGateway({
    name: 'abuse',
    adminToken: ADMIN,
    // The inspector lets the memory check force a GC in the gateway and read its heap.
    env: { SIM_PROVIDER_KEY: PROVIDER_KEY, NODE_OPTIONS: `--inspect=127.0.0.1:${inspectPort}` },
    config: gatewayConfig({
      simulatorUrl: sim.url,
      keys: [{ key: KEY, tenant: 'abuse', tier: 'standard' }],
      server: { max_body_bytes: MAX_BODY },
    }),
  });
});

afterAll(async () => {
  await stopAndCollect([gateway], emitted);
  await sim?.close();
  expectNoSecrets(scanner, emitted);
});

const auth = { authorization: `Bearer ${KEY}` };

async function expectAlive() {
  const reply = await chat(gateway.url, chatBody('still alive?'), { key: KEY });
  expect(reply.status).toBe(200);
  expect(gateway.exited).toBe(false);
}

describe('abuse and bad input against a gateway process', () => {
  it('rejects an oversized body with 413 (declared length, and chunked without one)', async () => {
    const big = JSON.stringify(chatBody('x'.repeat(MAX_BODY * 4)));
    const declared = await chat(gateway.url, big, { key: KEY });
    expect(declared.status).toBe(413);
    expect(errorCode(declared)).toBe('payload_too_large');

    const chunked = await rawRequest(gateway.port, [
      'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        `Authorization: Bearer ${KEY}\r\nTransfer-Encoding: chunked\r\n\r\n`,
      ...Array.from({ length: 8 }, () => `${(MAX_BODY / 2).toString(16)}\r\n${'y'.repeat(MAX_BODY / 2)}\r\n`),
      '0\r\n\r\n',
    ]);
    expect(chunked.status).toBe(413);
    await expectAlive();
  });

  it('answers deep JSON, invalid UTF-8, lying Content-Length and proto keys without a 5xx', async () => {
    const deep = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":${'['.repeat(20_000)}${']'.repeat(20_000)}}]}`;
    const deepObject = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x","meta":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}]}`;
    for (const body of [deep, deepObject]) {
      const reply = await chat(gateway.url, body, { key: KEY });
      expect(reply.status, reply.text.slice(0, 200)).toBeLessThan(500);
    }
    const invalid = Buffer.concat([
      Buffer.from('{"model":"gpt-4o-mini","messages":[{"role":"user","content":"'),
      Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80]),
      Buffer.from('"}]}'),
    ]);
    const utf8 = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: invalid,
    });
    expect(utf8.status).toBeLessThan(500);
    await utf8.text();

    // Content-Length larger than the body sent: the server waits for the rest, the client gives up.
    const lying = await rawRequest(
      gateway.port,
      [rawPost(undefined, { ...auth, 'Content-Length': '5000' }), '{"mo'],
      {
        timeoutMs: 1500,
      },
    );
    expect(lying.status === 0 || lying.status < 500).toBe(true);

    const proto = await chat(
      gateway.url,
      '{"model":"gpt-4o-mini","__proto__":{"admin":true},"messages":[]}',
      {
        key: KEY,
      },
    );
    expect(proto.status).toBeLessThan(500);
    await expectAlive();
  });

  it('refuses thousands of headers and a huge header with 431, and keeps serving', async () => {
    const many = Array.from({ length: 5000 }, (_, i) => `\r\nx-h-${i}: ${i}`).join('');
    const reply = await rawRequest(gateway.port, [rawPost('{}', auth, many)]);
    expect(reply.status === 431 || (reply.status === 0 && reply.closedByServer)).toBe(true);
    const huge = await rawRequest(gateway.port, [rawPost('{}', { ...auth, 'x-big': 'z'.repeat(100_000) })]);
    expect(huge.status === 431 || (huge.status === 0 && huge.closedByServer)).toBe(true);
    await expectAlive();
  });

  it('keeps serving other clients while 100 slowloris connections dribble headers and bodies', async () => {
    const slowHeaders = Array.from({ length: 50 }, () =>
      rawRequest(
        gateway.port,
        ['POST /v1/chat/completions HTTP/1.1\r\n', 'Host: x\r\n', 'X-A: 1\r\n', 'X-B: 2\r\n'],
        {
          gapMs: 500,
          timeoutMs: 3000,
        },
      ),
    );
    const slowBodies = Array.from({ length: 50 }, () =>
      rawRequest(
        gateway.port,
        [rawPost(undefined, { ...auth, 'Content-Length': '100' }), '{', '"', 'm', 'o'],
        {
          gapMs: 500,
          timeoutMs: 3000,
        },
      ),
    );
    const started = performance.now();
    const normal = await mapConcurrent([...Array(20).keys()], 5, (i) =>
      chat(gateway.url, chatBody(`normal ${i}`), { key: KEY }),
    );
    expect(normal.every((reply) => reply.status === 200)).toBe(true);
    expect(performance.now() - started).toBeLessThan(5000);
    await Promise.all([...slowHeaders, ...slowBodies]);
  });

  it('answers unknown, malformed and missing keys with 401 and an OpenAI error body', async () => {
    const keys = Array.from({ length: 500 }, (_, i) => `sk-unknown-${i}-${'q'.repeat(i % 40)}`);
    const replies = await mapConcurrent(keys, 16, (key) => chat(gateway.url, chatBody('who am i'), { key }));
    expect(replies.every((reply) => reply.status === 401 && errorCode(reply) === 'invalid_api_key')).toBe(
      true,
    );
    for (const authorization of [
      '',
      'Bearer',
      'Basic Zm9vOmJhcg==',
      `Bearer ${KEY} extra`,
      `bearer ${KEY}x`,
    ]) {
      const reply = await chat(gateway.url, chatBody('bad auth'), {
        headers: authorization ? { authorization } : {},
      });
      expect(reply.status, `authorization '${authorization}'`).toBe(401);
    }
    const admin = await fetch(`${gateway.url}/admin/stats`, {
      headers: { authorization: 'Bearer wrong-token-123' },
    });
    expect(admin.status).toBe(401);
    await admin.text();
  });

  it('survives fuzzed bodies and headers over HTTP: no 5xx, no crash, heap flat', async () => {
    const cases = fc.sample(fc.oneof(requestArb, validRequestArb(['gpt-4o-mini', 'gpt-4o'])), {
      numRuns: 1000,
      seed: 7,
    });
    const send = (request: (typeof cases)[number], keyed: boolean) =>
      fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: keyed ? { ...request.headers, ...auth } : request.headers,
        body: request.body,
        signal: AbortSignal.timeout(10_000),
      }).then(async (response) => ({
        status: response.status,
        type: response.headers.get('content-type') ?? '',
        text: await response.text(),
      }));
    const problems: string[] = [];
    const round = async (slice: typeof cases) => {
      await mapConcurrent(slice, 8, async (request, i) => {
        const reply = await send(request, i % 2 === 0);
        const problem = violation(reply.status, reply.type, reply.text);
        if (problem) problems.push(problem);
      });
    };
    // Warm-up over the same cases: JIT, pools, and the cache entries these requests create. The
    // rounds after it repeat them, so heap growth there is a leak, not the cache filling up.
    await round(cases);
    const before = await heapAfterGc(inspectPort);
    await round(cases);
    await round(cases);
    const after = await heapAfterGc(inspectPort);
    expect(problems).toEqual([]);
    console.info(
      `abuse fuzz: gateway heap after GC ${(before / 1e6).toFixed(1)} MB → ${(after / 1e6).toFixed(1)} MB`,
    );
    // 2000 requests: a leak of 2 KB per request shows as 4 MB.
    expect(after - before).toBeLessThan(4e6);
    await expectAlive();
  });
});
