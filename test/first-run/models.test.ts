import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/gateway/config/load.ts';
import { createGateway } from '../../src/gateway/gateway.ts';
import { freePort } from '../helpers/ports.ts';

const embedded = (text: string) =>
  createGateway(loadConfig({ text, env: {} }), { telemetry: false, localAdminToken: false });

/** Issue 17 item 8: the simulator's port is configurable, and /v1/models lists what the gateway routes. */
describe('the embedded simulator and /v1/models', () => {
  it('listens on [simulator] port', async () => {
    const port = await freePort();
    const gateway = await embedded(`[simulator]\nport = ${port}\n`);
    try {
      expect(gateway.simulator?.url).toBe(`http://127.0.0.1:${port}`);
    } finally {
      await gateway.stop();
    }
  });

  it('refuses a bad [simulator] port at load, naming the key', () => {
    expect(() => loadConfig({ text: '[simulator]\nport = 70000\n', env: {} })).toThrow(
      'config error: simulator.port = 70000: expected a port number 0-65535',
    );
  });

  it('says which setting to change when the simulator port is taken', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      await expect(embedded(`[simulator]\nport = ${port}\n`)).rejects.toThrow(
        `the simulator port 127.0.0.1:${port} is in use: set [simulator] port to a free port, or 0 for any`,
      );
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });

  it('lists the configured models and the simulator’s, and answers one by id', async () => {
    const gateway = await embedded('[ai_models.team-model]\nrate_limit = 10\n');
    try {
      const list = (await (await gateway.app.request('/v1/models')).json()) as {
        object: string;
        data: { id: string; object: string; owned_by: string }[];
      };
      expect(list.object).toBe('list');
      expect(list.data.map((model) => model.id)).toEqual([
        'team-model',
        'gpt-4o',
        'gpt-4o-mini',
        'gpt-4.1',
        'claude-3-5-sonnet',
        'claude-3-sonnet',
        'claude-3-haiku',
      ]);
      const one = await gateway.app.request('/v1/models/claude-3-haiku');
      expect(await one.json()).toEqual({
        id: 'claude-3-haiku',
        object: 'model',
        created: 0,
        owned_by: 'anthropic',
      });
      const unknown = await gateway.app.request('/v1/models/no-such-model');
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({
        error: {
          message: 'The model "no-such-model" does not exist on this gateway (GET /v1/models lists them)',
          type: 'invalid_request_error',
          param: 'model',
          code: 'model_not_found',
        },
      });
    } finally {
      await gateway.stop();
    }
  });

  it('lists only the configured models once a real provider answers', async () => {
    const gateway = await embedded(
      '[providers.up]\ntype = "openai"\nbase_url = "http://127.0.0.1:9/v1"\n[ai_models.gpt-4o]\nprovider = "up"\n',
    );
    try {
      const list = (await (await gateway.app.request('/v1/models')).json()) as { data: { id: string }[] };
      expect(list.data).toEqual([{ id: 'gpt-4o', object: 'model', created: 0, owned_by: 'up' }]);
    } finally {
      await gateway.stop();
    }
  });
});
