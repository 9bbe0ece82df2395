import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, startGateway } from '../helpers/gateway.ts';

const ADMIN_TOKEN = 'admin-rejections-7d1e';

/** Issue 17 item 7: requests the gateway's own checks reject with 400 are requests in /admin/stats. */
describe('400s in /admin/stats', () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    gw = await startGateway({
      name: 'rejections',
      adminToken: ADMIN_TOKEN,
      config: '[simulator]\nlatency_ms = 1\njitter_ms = 0\nchunk_delay_ms = 0\n',
      env: { OPENAI_API_KEY: undefined, ANTHROPIC_API_KEY: undefined, OPENAI_BASE_URL: undefined },
    });
  });
  afterAll(() => gw?.stop());

  it('counts invalid JSON, a missing model, empty messages and too-deep JSON as client errors', async () => {
    const deep = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":${'['.repeat(100)}${']'.repeat(100)}}]}`;
    const bodies = [
      '{not json',
      '{"messages":[{"role":"user","content":"x"}]}',
      '{"model":"gpt-4o-mini","messages":[]}',
      deep,
    ];
    for (const body of bodies) {
      const response = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-rejections-1' },
        body,
      });
      expect(response.status).toBe(400);
      await response.arrayBuffer();
    }
    const stats = (await (
      await fetch(`${gw.url}/admin/stats`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    ).json()) as { requests: { total: number; byOutcome: Record<string, number> } };
    expect(stats.requests.total).toBe(4);
    expect(stats.requests.byOutcome).toEqual({ client_error: 4 });
  });
});
