import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the echoing upstream sent back, per request (the positive control: the key is in there). */
export interface EchoedReply {
  readonly model: string;
  readonly status: number;
  readonly body: string;
}

export interface EchoUpstream {
  /** `http://127.0.0.1:<port>` (OpenAI-compatible under `/v1`, Anthropic at `/v1/messages`). */
  readonly url: string;
  /** Every reply sent, in order. */
  readonly replies: readonly EchoedReply[];
  /** Requests received for a model. */
  hits(model: string): number;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
    });
    req.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
    req.on('error', reject);
  });
}

/**
 * A provider that does what real ones do when they refuse a key: echo the credential it was sent in
 * its error message ("Incorrect API key provided: sk-…"). The model name picks the answer:
 * `auth-fail` 401 and `forbidden` 403 (OpenAI shape), `claude-auth` 401 (Anthropic shape),
 * `bad-param` 400 that also quotes an `authorization:` header and a key the gateway never had,
 * `stream-fail` / `claude-stream-fail` a stream that fails midway with the key in its error event;
 * anything else a normal OpenAI reply.
 */
export async function startEchoUpstream(options: { unregisteredKey: string }): Promise<EchoUpstream> {
  const replies: EchoedReply[] = [];
  const counts = new Map<string, number>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const model = String(body.model);
    counts.set(model, (counts.get(model) ?? 0) + 1);
    const authorization = req.headers.authorization ?? '';
    const key = authorization.replace(/^Bearer\s+/i, '') || String(req.headers['x-api-key'] ?? '');
    const send = (status: number, payload: unknown, type = 'application/json') => {
      const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
      replies.push({ model, status, body: text });
      res.writeHead(status, { 'content-type': type });
      res.end(text);
    };
    const openAiError = (status: number, message: string) =>
      send(status, { error: { message, type: 'invalid_request_error', code: 'invalid_api_key' } });
    switch (model) {
      case 'auth-fail':
        return openAiError(
          401,
          `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        );
      case 'forbidden':
        return openAiError(403, `Project does not have access to this model with key ${key}`);
      case 'bad-param':
        return openAiError(
          400,
          `Invalid 'temperature' (request had authorization: ${authorization}; your other key ${options.unregisteredKey} is revoked)`,
        );
      case 'claude-auth':
        return send(401, {
          type: 'error',
          error: { type: 'authentication_error', message: `invalid x-api-key ${key}` },
        });
      case 'stream-fail':
        return send(
          200,
          [
            `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: { role: 'assistant', content: 'Hel' } }] })}`,
            `data: ${JSON.stringify({ error: { message: `stream broke for key ${key}` } })}`,
            '',
            '',
          ].join('\n\n'),
          'text/event-stream',
        );
      case 'claude-stream-fail':
        return send(
          200,
          [
            `event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { id: 'm1', model, usage: { input_tokens: 3, output_tokens: 0 } } })}`,
            `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hel' } })}`,
            `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: `key ${key} revoked mid-answer` } })}`,
            '',
            '',
          ].join('\n\n'),
          'text/event-stream',
        );
      default:
        return send(200, {
          id: 'chatcmpl-echo',
          object: 'chat.completion',
          created: 0,
          model,
          choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
        });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    replies,
    hits: (model) => counts.get(model) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
