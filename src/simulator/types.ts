/**
 * How the simulator misbehaves: an HTTP status to answer with (`'500'`, `'429'`, `'529'`...), or
 * `hang` (never answer), `cut-stream` (drop the connection midway), `slow-first-chunk` (headers at
 * once, first chunk late), `malformed` (200 with a body that is not JSON), or `none`.
 */
export type SimulatedFailure =
  | 'none'
  | 'hang'
  | 'cut-stream'
  | 'slow-first-chunk'
  | 'malformed'
  | `${number}`;

/** Run-time behaviour, changeable while the simulator runs (`setMode()` or `POST /_sim/mode`). */
export interface SimulatorMode {
  /** Failure to inject. @default 'none' */
  readonly fail: SimulatedFailure;
  /** Fraction of matching requests that fail, spread evenly (0.5 = every other one). @default 1 */
  readonly rate: number;
  /** `Retry-After` seconds sent with 429 and 503 answers. @default 1 */
  readonly retryAfter: number;
  /** Only requests for this model are affected; undefined = all. */
  readonly model?: string | undefined;
  /** Fixed latency before the answer (or before the stream's headers), in ms. */
  readonly latencyMs: number;
  /** Uniform random extra latency in [0, jitterMs) ms. */
  readonly jitterMs: number;
  /** Delay between streamed chunks, in ms. */
  readonly chunkDelayMs: number;
  /** Delay before the first chunk when `fail` is `slow-first-chunk`, in ms. */
  readonly firstChunkDelayMs: number;
}

export interface SimulatorOptions {
  /** Port to listen on; 0 lets the OS pick one. @default 0 */
  port?: number;
  /** Interface to bind. @default '127.0.0.1' */
  host?: string;
  /** Fixed latency per answer, in ms. @default 0 */
  latencyMs?: number;
  /** Uniform random extra latency in [0, jitterMs) ms. @default 0 */
  jitterMs?: number;
  /** Delay between streamed chunks, in ms. @default 0 */
  chunkDelayMs?: number;
  /** First-chunk delay for `slow-first-chunk`, in ms. @default 5000 */
  firstChunkDelayMs?: number;
  /** Words per streamed chunk. @default 1 */
  wordsPerChunk?: number;
  /** When set, requests without this key (`Authorization: Bearer` or `x-api-key`) get a 401. @default undefined */
  apiKey?: string;
  /** Initial failure mode. @default { fail: 'none' } */
  mode?: Partial<SimulatorMode>;
  /** Random source for jitter (tests inject one). @default Math.random */
  random?: () => number;
}

/** Counters a test reads to know how many calls reached the "provider". */
export interface SimulatorStats {
  /** Completion requests received (both APIs, failed ones included). */
  requests: number;
  /**
   * Requests per API: `openai` (`/v1/chat/completions`), `anthropic` (`/v1/messages`), `responses`,
   * `embeddings`, `completions` (legacy).
   */
  byApi: Record<SimulatedApi, number>;
  /** Requests per requested model. */
  byModel: Record<string, number>;
  /** Streaming requests. */
  streams: number;
  /** Requests answered with an injected failure. */
  failures: number;
  /** Requests rejected with 401 (wrong or missing key). */
  unauthorized: number;
  /** Requests rejected with 400 (invalid body). */
  invalid: number;
  /** Requests being answered right now. */
  inFlight: number;
  /** Highest `inFlight` seen. */
  maxInFlight: number;
}

/** A running simulator. */
export interface Simulator {
  /** Base URL, e.g. `http://127.0.0.1:41234` (OpenAI clients append `/v1`). */
  readonly url: string;
  readonly port: number;
  /** A snapshot of the counters. */
  stats(): SimulatorStats;
  /** Zero the counters (in-flight requests stay counted). */
  resetStats(): void;
  /** Change the failure mode and latencies; fields left out keep their value. `null` restores the start mode. */
  setMode(mode: Partial<SimulatorMode> | null): SimulatorMode;
  /** The current mode. */
  mode(): SimulatorMode;
  /** Stop listening, end hanging requests and close every connection. */
  close(): Promise<void>;
}

/** The APIs the simulator speaks. */
export type SimulatedApi = 'openai' | 'anthropic' | 'responses' | 'embeddings' | 'completions';
