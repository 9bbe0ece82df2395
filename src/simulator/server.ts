import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sleep } from '../core/clock.ts';
import { parseJsonObject } from '../core/json.ts';
import {
  anthropicError,
  anthropicMessage,
  anthropicStream,
  anthropicToolCall,
  validateAnthropic,
} from './anthropic.ts';
import { completionsAnswer, completionsStream, promptMessages, validateCompletions } from './completions.ts';
import { embeddingsAnswer, validateEmbeddings } from './embeddings.ts';
import { FailureSchedule, mergeMode, parseFailure } from './mode.ts';
import type { SimEvent } from './openai.ts';
import {
  chatToolCall,
  maxTokensOpenAi,
  openAiCompletion,
  openAiError,
  openAiStream,
  validateOpenAi,
} from './openai.ts';
import { simulateReply } from './reply.ts';
import { responsesAnswer, responsesStream, simulateResponses, validateResponses } from './responses.ts';
import type {
  SimulatedApi,
  SimulatedFailure,
  Simulator,
  SimulatorMode,
  SimulatorOptions,
  SimulatorStats,
} from './types.ts';

type Api = SimulatedApi;

/** The API each simulated route speaks (with and without the `/v1` prefix for OpenAI's). */
const ROUTES: ReadonlyMap<string, Api> = new Map([
  ['/v1/chat/completions', 'openai'],
  ['/chat/completions', 'openai'],
  ['/v1/messages', 'anthropic'],
  ['/v1/responses', 'responses'],
  ['/responses', 'responses'],
  ['/v1/embeddings', 'embeddings'],
  ['/embeddings', 'embeddings'],
  ['/v1/completions', 'completions'],
  ['/completions', 'completions'],
]);

const VALIDATE: Record<Api, (body: Record<string, unknown>) => string | undefined> = {
  openai: validateOpenAi,
  anthropic: validateAnthropic,
  responses: validateResponses,
  embeddings: validateEmbeddings,
  completions: validateCompletions,
};

/** What one request answers: its JSON body and its stream events (streams are not offered for embeddings). */
function simulatedAnswer(api: Api, body: Record<string, unknown>, created: number, wordsPerChunk: number) {
  const model = body.model as string;
  const includeUsage = (body.stream_options as Record<string, unknown> | undefined)?.include_usage;
  switch (api) {
    case 'embeddings':
      return { json: () => embeddingsAnswer(body), events: () => [] as SimEvent[] };
    case 'responses': {
      const simulated = simulateResponses(body);
      return {
        json: () => responsesAnswer(body, simulated, created),
        events: () => responsesStream(body, simulated, created, wordsPerChunk),
      };
    }
    case 'completions': {
      const max = typeof body.max_tokens === 'number' ? body.max_tokens : undefined;
      const reply = simulateReply(model, promptMessages(body.prompt), max);
      return {
        json: () => completionsAnswer(reply, model, created),
        events: () => completionsStream(reply, model, created, wordsPerChunk, includeUsage === true),
      };
    }
    case 'anthropic': {
      const reply = simulateReply(model, body.messages as unknown[], body.max_tokens as number, body.system);
      const call = anthropicToolCall(body, reply);
      return {
        json: () => anthropicMessage(reply, model, call),
        events: () => anthropicStream(reply, model, wordsPerChunk, call),
      };
    }
    case 'openai': {
      const reply = simulateReply(model, body.messages as unknown[], maxTokensOpenAi(body));
      const call = chatToolCall(body, reply);
      return {
        json: () => openAiCompletion(reply, model, created, call),
        // Usage unless the request turned it off: the simulator's long-standing default.
        events: () => openAiStream(reply, model, created, wordsPerChunk, includeUsage !== false, call),
      };
    }
  }
}

const MAX_BODY_BYTES = 8 * 1024 * 1024;
/** The models `GET /v1/models` lists (every other model name is answered too). */
export const SIMULATED_MODELS: readonly string[] = [
  'gpt-4o',
  'gpt-4o-mini',
  'gpt-4.1',
  'claude-3-5-sonnet',
  'claude-3-sonnet',
  'claude-3-haiku',
];

function emptyStats(): SimulatorStats {
  return {
    requests: 0,
    byApi: { openai: 0, anthropic: 0, responses: 0, embeddings: 0, completions: 0 },
    byModel: {},
    streams: 0,
    failures: 0,
    unauthorized: 0,
    invalid: 0,
    inFlight: 0,
    maxInFlight: 0,
  };
}

function integerOption(value: number | undefined, name: string, fallback: number, min: number, max: number) {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(
      `startSimulator: ${name} = ${JSON.stringify(value)}: expected an integer ${min}..${max}`,
    );
  }
  return value;
}

function headerNumber(req: IncomingMessage, name: string): number | undefined {
  const raw = req.headers[name];
  if (typeof raw !== 'string' || raw.trim() === '') return undefined;
  const value = Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (part: Buffer) => {
      size += part.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      parts.push(part);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function writeEvent(res: ServerResponse, event: SimEvent): void {
  const data = typeof event.data === 'string' ? event.data : JSON.stringify(event.data);
  res.write(event.event ? `event: ${event.event}\ndata: ${data}\n\n` : `data: ${data}\n\n`);
}

/**
 * Start a simulated LLM provider: OpenAI `POST /v1/chat/completions`, `/v1/responses`,
 * `/v1/embeddings` (float or base64, `dimensions`), `/v1/completions`, and Anthropic
 * `POST /v1/messages`, JSON and streaming (each API's own event sequence), tool calls when tools are
 * offered, with deterministic replies (derived from the prompt), realistic usage, latency,
 * and failures injected per request (`x-sim-fail`, `x-sim-latency-ms`, `x-sim-chunk-delay-ms`,
 * `x-sim-first-chunk-delay-ms`, `x-sim-retry-after` headers) or for every request at run time
 * (`setMode()` or `POST /_sim/mode`). `GET /_sim/stats` counts the calls that reached it.
 *
 * @param [options.port=0] port (0: any free port)
 * @param [options.latencyMs=0] fixed latency per answer
 * @example
 * const sim = await startSimulator({ latencyMs: 50, chunkDelayMs: 5 });
 * const openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sim' });
 * sim.setMode({ fail: '429', rate: 0.5, retryAfter: 2 });
 * await sim.close();
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const port = integerOption(options.port, 'port', 0, 0, 65535);
  const host = options.host ?? '127.0.0.1';
  const wordsPerChunk = integerOption(options.wordsPerChunk, 'wordsPerChunk', 1, 1, 1000);
  const random = options.random ?? Math.random;
  const initialMode = mergeMode(
    {
      fail: 'none',
      rate: 1,
      retryAfter: 1,
      latencyMs: 0,
      jitterMs: 0,
      chunkDelayMs: 0,
      firstChunkDelayMs: 5000,
    },
    {
      ...(options.latencyMs !== undefined ? { latencyMs: options.latencyMs } : {}),
      ...(options.jitterMs !== undefined ? { jitterMs: options.jitterMs } : {}),
      ...(options.chunkDelayMs !== undefined ? { chunkDelayMs: options.chunkDelayMs } : {}),
      ...(options.firstChunkDelayMs !== undefined ? { firstChunkDelayMs: options.firstChunkDelayMs } : {}),
      ...options.mode,
    },
  );
  let mode = initialMode;
  let stats = emptyStats();
  const schedule = new FailureSchedule();
  let sequence = 0;

  const authorized = (req: IncomingMessage): boolean => {
    if (options.apiKey === undefined) return true;
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    return bearer === options.apiKey || req.headers['x-api-key'] === options.apiKey;
  };

  /** The failure for this request: a per-request header wins; otherwise the global mode, if it matches. */
  const failureFor = (req: IncomingMessage, model: string): SimulatedFailure => {
    const header = req.headers['x-sim-fail'];
    if (typeof header === 'string' && header !== '') return parseFailure(header, 'x-sim-fail');
    if (mode.fail === 'none' || (mode.model !== undefined && mode.model !== model)) return 'none';
    return schedule.next(mode.rate) ? mode.fail : 'none';
  };

  async function completion(api: Api, req: IncomingMessage, res: ServerResponse, signal: AbortSignal) {
    const id = ++sequence;
    const providerHeaders: Record<string, string> =
      api !== 'anthropic'
        ? // OpenAI reports the account's remaining capacity on every answer.
          {
            'x-request-id': `req_sim${id}`,
            'x-ratelimit-limit-requests': '10000',
            'x-ratelimit-remaining-requests': '9999',
          }
        : { 'request-id': `req_sim${id}` };
    const error = (status: number, message: string, headers: Record<string, string> = {}) =>
      sendJson(
        res,
        status,
        api === 'anthropic' ? anthropicError(status, message) : openAiError(status, message),
        {
          ...providerHeaders,
          ...headers,
        },
      );

    const text = await readBody(req);
    stats.requests++;
    stats.byApi[api]++;
    if (text === undefined) return error(413, 'Request body too large');
    if (!authorized(req)) {
      stats.unauthorized++;
      return error(401, 'Incorrect API key provided');
    }
    const body = parseJsonObject(text);
    if (body === undefined) {
      stats.invalid++;
      return error(400, 'We could not parse the JSON body of your request.');
    }
    const invalid = VALIDATE[api](body);
    if (invalid) {
      stats.invalid++;
      return error(400, invalid);
    }
    const model = body.model as string;
    const stream = body.stream === true && api !== 'embeddings';
    stats.byModel[model] = (stats.byModel[model] ?? 0) + 1;
    if (stream) stats.streams++;

    let failure: SimulatedFailure;
    try {
      failure = failureFor(req, model);
    } catch (err) {
      stats.invalid++;
      return error(400, (err as Error).message);
    }
    if (failure !== 'none') stats.failures++;

    const latency =
      (headerNumber(req, 'x-sim-latency-ms') ?? mode.latencyMs) +
      (mode.jitterMs > 0 ? random() * mode.jitterMs : 0);
    const chunkDelay = headerNumber(req, 'x-sim-chunk-delay-ms') ?? mode.chunkDelayMs;
    const firstChunkDelay = headerNumber(req, 'x-sim-first-chunk-delay-ms') ?? mode.firstChunkDelayMs;
    const retryAfter = headerNumber(req, 'x-sim-retry-after') ?? mode.retryAfter;

    if (failure === 'hang') {
      // Never answer: the caller's timeout (or its abort) is what ends this request.
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      return;
    }
    if (latency > 0) await sleep(latency, signal);

    if (/^\d{3}$/.test(failure)) {
      const status = Number(failure);
      const headers: Record<string, string> =
        status === 429 || status === 503 || status === 529 ? { 'retry-after': String(retryAfter) } : {};
      const message =
        status === 429
          ? 'Rate limit reached (simulated)'
          : status === 529
            ? 'Overloaded'
            : `Simulated ${status}`;
      return error(status, message, headers);
    }

    const created = Math.floor(Date.now() / 1000);
    const answered = simulatedAnswer(api, body, created, wordsPerChunk);

    if (!stream) {
      const answer = answered.json();
      if (failure === 'slow-first-chunk') await sleep(firstChunkDelay, signal);
      if (failure === 'malformed') {
        res.writeHead(200, { 'content-type': 'application/json', ...providerHeaders });
        return res.end('{"id": "chatcmpl-sim", "choices": [ {');
      }
      if (failure === 'cut-stream') {
        // Promise a full body, send half of it, then drop the connection.
        const full = JSON.stringify(answer);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(full) });
        await new Promise<void>((resolve) =>
          res.write(full.slice(0, Math.floor(full.length / 2)), () => resolve()),
        );
        res.destroy();
        return;
      }
      return sendJson(res, 200, answer, providerHeaders);
    }

    const events = answered.events();
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      ...providerHeaders,
    });
    res.flushHeaders();
    if (failure === 'slow-first-chunk') await sleep(firstChunkDelay, signal);
    const cutAt = failure === 'cut-stream' ? Math.max(1, Math.floor(events.length / 2)) : events.length;
    for (let i = 0; i < cutAt; i++) {
      if (i > 0 && chunkDelay > 0) await sleep(chunkDelay, signal);
      const event = events[i]!;
      writeEvent(res, failure === 'malformed' && i === 1 ? { data: '{"choices": [ {' } : event);
    }
    if (failure === 'cut-stream') {
      // Let what was written reach the client, then drop the connection mid-body.
      await new Promise<void>((resolve) => res.write('', () => resolve()));
      res.destroy();
      return;
    }
    // Chat and legacy completions end with [DONE]; Responses and Messages end with their last event.
    if (api === 'openai' || api === 'completions') res.write('data: [DONE]\n\n');
    res.end();
  }

  async function admin(req: IncomingMessage, res: ServerResponse, path: string) {
    if (path === '/_sim/stats' && req.method === 'GET') return sendJson(res, 200, snapshot());
    if (path === '/_sim/mode' && req.method === 'GET') return sendJson(res, 200, mode);
    if (path === '/_sim/reset' && req.method === 'POST') {
      mode = initialMode;
      schedule.reset();
      resetStats();
      return sendJson(res, 200, { mode, stats: snapshot() });
    }
    if (path === '/_sim/mode' && req.method === 'POST') {
      const text = (await readBody(req)) ?? '';
      try {
        const patch: unknown = text.trim() === '' ? null : JSON.parse(text);
        if (patch !== null && (typeof patch !== 'object' || Array.isArray(patch))) {
          throw new TypeError('mode: expected a JSON object or null');
        }
        return sendJson(res, 200, setMode(patch as Record<string, unknown> | null));
      } catch (err) {
        return sendJson(res, 400, { error: { message: (err as Error).message } });
      }
    }
    return sendJson(res, 404, { error: { message: `no simulator route ${req.method} ${path}` } });
  }

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const controller = new AbortController();
    const api = req.method === 'POST' ? ROUTES.get(path) : undefined;
    const isCompletion = api !== undefined;
    if (isCompletion) {
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    }
    let counted = isCompletion;
    res.on('close', () => {
      if (counted) {
        counted = false;
        stats.inFlight--;
      }
      if (!res.writableFinished) controller.abort(new Error('client closed the connection'));
    });
    const handle = async () => {
      if (api) return completion(api, req, res, controller.signal);
      if (path.startsWith('/_sim/')) return admin(req, res, path);
      if (path === '/healthz' && req.method === 'GET')
        return sendJson(res, 200, { status: 'ok', simulator: true });
      if ((path === '/v1/models' || path === '/models') && req.method === 'GET') {
        return sendJson(res, 200, {
          object: 'list',
          data: SIMULATED_MODELS.map((id) => ({
            id,
            object: 'model',
            created: 0,
            owned_by: 'alchemist-simulator',
          })),
        });
      }
      return sendJson(res, 404, {
        error: { message: `Unknown route ${req.method} ${path}`, type: 'invalid_request_error' },
      });
    };
    handle().catch(() => {
      // Aborted waits (the client left) land here; anything else is a simulator bug shown as a 500.
      if (controller.signal.aborted) return;
      if (!res.headersSent)
        sendJson(res, 500, { error: { message: 'simulator error', type: 'server_error' } });
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  function snapshot(): SimulatorStats {
    return structuredClone(stats);
  }
  function resetStats(): void {
    const { inFlight, maxInFlight } = stats;
    stats = { ...emptyStats(), inFlight, maxInFlight: inFlight > 0 ? maxInFlight : 0 };
  }
  function setMode(patch: Partial<SimulatorMode> | Record<string, unknown> | null): SimulatorMode {
    mode = patch === null ? initialMode : mergeMode(mode, patch as Record<string, unknown>);
    schedule.reset();
    return mode;
  }

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    stats: snapshot,
    resetStats,
    setMode,
    mode: () => mode,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Hanging and streaming requests end here; idle keep-alive sockets too.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
