import { setModelPrice } from '../../src/telemetry/prices.ts';

/** A model priced at $1 per input token and $2 per output token: costs are whole dollars, exactly. */
export const MODEL = 'budget-test-model';
setModelPrice(MODEL, { input: 1_000_000, output: 2_000_000 });

/** A chat request whose cost the tests can compute: its prompt tokens + `maxTokens` output tokens. */
export function chat(content: string, maxTokens: number) {
  return { model: MODEL, messages: [{ role: 'user', content }], max_tokens: maxTokens };
}

/** 2026-12-01T10:00:00Z: a Tuesday, mid-morning UTC. */
export const DEC_1_10AM = Date.UTC(2026, 11, 1, 10);

/**
 * 10:00 UTC today: for Redis tests, whose keys expire after the period by Redis' own clock (a period
 * in the past would expire them at once).
 */
export const TODAY_10AM = (() => {
  const now = new Date();
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 10);
})();
