import type { SimulatedFailure, SimulatorMode } from './types.ts';

const NAMED_FAILURES = new Set(['none', 'hang', 'cut-stream', 'slow-first-chunk', 'malformed']);

/** Check a failure name: a named mode or an HTTP status 400..599. */
export function parseFailure(value: unknown, where: string): SimulatedFailure {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text === 'string') {
    if (NAMED_FAILURES.has(text)) return text as SimulatedFailure;
    const status = Number(text);
    if (/^\d{3}$/.test(text) && status >= 400 && status <= 599) return text as SimulatedFailure;
  }
  throw new TypeError(
    `${where} = ${JSON.stringify(value)}: expected none, hang, cut-stream, slow-first-chunk, malformed or an HTTP status 400-599`,
  );
}

function nonNegative(value: unknown, where: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  throw new TypeError(`${where} = ${JSON.stringify(value)}: expected a number >= 0`);
}

/** Merge a partial mode (from code or `POST /_sim/mode`) into the current one, validating every field. */
export function mergeMode(current: SimulatorMode, patch: Record<string, unknown>): SimulatorMode {
  const known = new Set([
    'fail',
    'rate',
    'retryAfter',
    'model',
    'latencyMs',
    'jitterMs',
    'chunkDelayMs',
    'firstChunkDelayMs',
  ]);
  for (const key of Object.keys(patch)) {
    if (!known.has(key))
      throw new TypeError(`mode.${key}: unknown field (expected one of ${[...known].join(', ')})`);
  }
  const next: { -readonly [K in keyof SimulatorMode]: SimulatorMode[K] } = { ...current };
  if (patch.fail !== undefined) next.fail = parseFailure(patch.fail, 'mode.fail');
  if (patch.rate !== undefined) {
    const rate = nonNegative(patch.rate, 'mode.rate');
    if (rate > 1) throw new TypeError(`mode.rate = ${rate}: expected a fraction between 0 and 1`);
    next.rate = rate;
  }
  if (patch.retryAfter !== undefined) next.retryAfter = nonNegative(patch.retryAfter, 'mode.retryAfter');
  if (patch.model !== undefined) {
    if (patch.model !== null && typeof patch.model !== 'string') {
      throw new TypeError(`mode.model = ${JSON.stringify(patch.model)}: expected a model name or null`);
    }
    next.model = patch.model ?? undefined;
  }
  for (const key of ['latencyMs', 'jitterMs', 'chunkDelayMs', 'firstChunkDelayMs'] as const) {
    if (patch[key] !== undefined) next[key] = nonNegative(patch[key], `mode.${key}`);
  }
  return next;
}

/**
 * Spreads failures evenly instead of randomly, so a chaos test with `rate: 0.5` sees exactly every
 * other request fail: request n fails when floor((n+1)·rate) > floor(n·rate).
 */
export class FailureSchedule {
  #count = 0;

  reset(): void {
    this.#count = 0;
  }

  next(rate: number): boolean {
    const n = this.#count++;
    return Math.floor((n + 1) * rate + 1e-9) > Math.floor(n * rate + 1e-9);
  }
}
