import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { ConnectionDrain } from '../../src/gateway/drain.ts';

// Seen in CI under load: SIGTERM while a keep-alive client asked for `/healthz`, which the app answers
// synchronously; the drain then set `connection: close` on a sent response and the process died of
// ERR_HTTP_HEADERS_SENT.
describe('draining a server whose app answers synchronously', () => {
  it('marks the answer connection: close without throwing', async () => {
    const server = createServer((_request, response) => {
      response.end('ok');
    });
    const drain = new ConnectionDrain(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const agent = new Agent({ connections: 1, pipelining: 1 });
    const url = `http://127.0.0.1:${port}/healthz`;
    const first = await request(url, { dispatcher: agent });
    await first.body.text();
    const drained = drain.drain(Date.now() + 2000);
    const during = await request(url, { dispatcher: agent });
    expect(await during.body.text()).toBe('ok');
    expect(during.headers.connection).toBe('close');
    await drained;
    await agent.close();
  });
});
