import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { gatewayConfig } from '../e2e/harness/config.ts';
import { rawPost, rawRequest } from '../e2e/harness/raw.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway.ts';

// Slowloris: clients that dribble headers or a body one byte at a time hold a socket (and the memory
// behind it) for as long as the server lets them. The server must cut them off after a bounded time;
// Node's defaults are 60 s for headers and 300 s for a whole request, far too long for a gateway.

const BOUND_MS = 30_000;
let sim: Simulator;
let gateway: GatewayProcess;

beforeAll(async () => {
  sim = await startSimulator();
  gateway = await startGateway({
    name: 'slowloris',
    env: { SIM_PROVIDER_KEY: 'sk-provider-slowloris-1' },
    config: gatewayConfig({ simulatorUrl: sim.url }),
  });
});
afterAll(async () => {
  await gateway?.stop();
  await sim?.close();
});

/** Dribble `chunks` forever (one every 2 s, repeating the last), and see whether the server hangs up. */
function dribble(first: string, each: string) {
  return rawRequest(gateway.port, [first, ...Array.from({ length: 100 }, () => each)], {
    gapMs: 2000,
    timeoutMs: BOUND_MS + 10_000,
  });
}

describe('slowloris connections are closed by the server', () => {
  it(`closes connections that dribble headers or a body within ${BOUND_MS / 1000} s`, async () => {
    const [headers, body] = await Promise.all([
      dribble('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n', 'X-Slow: 1\r\n'),
      dribble(rawPost(undefined, { authorization: 'Bearer sk-x', 'Content-Length': '100000' }), ' '),
    ]);
    expect(headers.closedByServer, `header dribble still open after ${Math.round(headers.ms)} ms`).toBe(true);
    expect(headers.ms).toBeLessThan(BOUND_MS + 2000);
    expect(body.closedByServer, `body dribble still open after ${Math.round(body.ms)} ms`).toBe(true);
    expect(body.ms).toBeLessThan(BOUND_MS + 2000);
  });
});
