/** Options and output of `bench/alloc.ts`, apart from it so reading them loads no system under test. */
import { parseArgs } from 'node:util';

/**
 * Warm-up and window go on past their time until this many requests, so a busy machine still gives
 * V8 the calls it needs to optimise the hot path and the sampler enough bytes (bounded in time).
 */
export const WARMUP_REQUESTS = 2000;
export const WINDOW_REQUESTS = 300;
export const MAX_EXTRA_MS = 30_000;

export interface AllocArgs {
  readonly path: 'hit' | 'miss';
  readonly system: 'pack' | 'bare';
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly top: number;
  readonly telemetry: boolean;
  readonly json: boolean;
}

/** Parse `bench/alloc.ts` options; throws naming a bad option or value. */
export function parseAllocArgs(argv: readonly string[]): AllocArgs {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      path: { type: 'string', default: 'hit' },
      system: { type: 'string', default: 'pack' },
      seconds: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '2' },
      top: { type: 'string', default: '25' },
      telemetry: { type: 'string', default: 'on' },
      json: { type: 'boolean', default: false },
    },
  });
  const oneOf = <T extends string>(name: string, value: string, allowed: readonly T[]): T => {
    if (!(allowed as readonly string[]).includes(value))
      throw new Error(`--${name} must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`);
    return value as T;
  };
  const positive = (name: string, value: string, min: number): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min)
      throw new Error(`--${name} must be a number >= ${min} (got ${value})`);
    return n;
  };
  return {
    path: oneOf('path', values.path, ['hit', 'miss'] as const),
    system: oneOf('system', values.system, ['pack', 'bare'] as const),
    seconds: positive('seconds', values.seconds, 0.1),
    warmupSeconds: positive('warmup', values.warmup, 0),
    top: Math.floor(positive('top', values.top, 1)),
    telemetry: oneOf('telemetry', values.telemetry, ['on', 'off'] as const) === 'on',
    json: values.json,
  };
}

/** What one `--json` run prints: bytes per request in total and by area (largest first). */
export interface AllocResult {
  readonly path: 'hit' | 'miss';
  readonly system: 'pack' | 'bare';
  readonly telemetry: boolean;
  readonly requests: number;
  readonly errors: number;
  readonly bytesPerRequest: number;
  readonly areas: readonly { readonly area: string; readonly bytesPerRequest: number }[];
}

/** What `--system bare` runs on a path. */
export function bareLabel(path: 'hit' | 'miss'): string {
  return path === 'miss' ? 'bare Hono + undici proxy' : 'bare Hono handler returning the same JSON';
}
