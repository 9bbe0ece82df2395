import type { ModelPrice } from '../telemetry/prices.ts';

/**
 * Ledgers count whole micro-dollars (1e-6 USD): integers add exactly in Redis (`HINCRBY`) and in
 * JavaScript, where summing float dollars drifts. A budget up to $9 billion stays exact (2^53 µUSD).
 */
export const MICROS_PER_USD = 1_000_000;

export function toMicros(usd: number): number {
  return Math.round(usd * MICROS_PER_USD);
}

export function toUsd(micros: number): number {
  return micros / MICROS_PER_USD;
}

/** Cost in USD of `input` and `output` tokens at `price` (USD per million tokens). */
export function priced(price: ModelPrice, input: number, output: number): number {
  return (input * price.input + output * price.output) / 1_000_000;
}
