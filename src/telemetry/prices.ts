import type { TokenUsage } from '../core/result.ts';

/** Price of a model in US dollars per million tokens. */
export interface ModelPrice {
  readonly input: number;
  readonly output: number;
}

/**
 * Public list prices (USD per 1M tokens) for common models, used for `alchemist.cost` estimates.
 * Override or extend with `setModelPrice()` (the gateway does so from `[ai_models.<m>]` config).
 */
const prices = new Map<string, ModelPrice>([
  ['gpt-4o', { input: 2.5, output: 10 }],
  ['gpt-4o-mini', { input: 0.15, output: 0.6 }],
  ['gpt-4.1', { input: 2, output: 8 }],
  ['gpt-4.1-mini', { input: 0.4, output: 1.6 }],
  ['gpt-4-turbo', { input: 10, output: 30 }],
  ['gpt-4', { input: 30, output: 60 }],
  ['gpt-3.5-turbo', { input: 0.5, output: 1.5 }],
  ['claude-3-opus', { input: 15, output: 75 }],
  ['claude-3-sonnet', { input: 3, output: 15 }],
  ['claude-3-haiku', { input: 0.25, output: 1.25 }],
  ['claude-3-5-sonnet', { input: 3, output: 15 }],
  ['claude-3-5-haiku', { input: 0.8, output: 4 }],
  ['claude-sonnet-4', { input: 3, output: 15 }],
]);

export function setModelPrice(model: string, price: ModelPrice): void {
  prices.set(model, price);
}

/** The price for a model, matching dated variants (`gpt-4o-2024-08-06`) by their longest known prefix. */
export function priceOf(model: string): ModelPrice | undefined {
  const exact = prices.get(model);
  if (exact) return exact;
  let best: [string, ModelPrice] | undefined;
  for (const entry of prices) {
    if (model.startsWith(`${entry[0]}-`) && (!best || entry[0].length > best[0].length)) best = entry;
  }
  return best?.[1];
}

/** Estimated cost in USD; 0 for a model with no known price. */
export function costOf(model: string, usage: TokenUsage): number {
  const price = priceOf(model);
  if (!price) return 0;
  return (usage.inputTokens * price.input + usage.outputTokens * price.output) / 1_000_000;
}
