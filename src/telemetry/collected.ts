import type { Attributes, MeterProvider, ObservableResult } from '@opentelemetry/api';
import { metrics } from '@opentelemetry/api';

/**
 * A gauge value read when metrics are collected rather than when something happens: a limiter's
 * remaining capacity refills with time, so a value recorded at the last decision goes stale (it showed
 * 0 minutes after the window refilled). Returns false once its owner is gone; it is then dropped.
 */
export type Reading = (observe: (value: number, attributes: Attributes) => void) => boolean;

/** Instrument name → the MeterProvider a policy was given (undefined: the global one) → readings. */
const readings = new Map<string, Map<MeterProvider | undefined, Set<Reading>>>();

/** Report `reading` on instrument `name` at every collection of `meterProvider` (the global by default). */
export function readAtCollection(
  name: string,
  meterProvider: MeterProvider | undefined,
  reading: Reading,
): void {
  let byProvider = readings.get(name);
  if (!byProvider) {
    byProvider = new Map();
    readings.set(name, byProvider);
  }
  let set = byProvider.get(meterProvider);
  if (!set) {
    set = new Set();
    byProvider.set(meterProvider, set);
  }
  set.add(reading);
}

/** Observe the readings of `name` for the instruments of `owner`. */
export function observeReadings(name: string, owner: MeterProvider, result: ObservableResult): void {
  const byProvider = readings.get(name);
  if (!byProvider) return;
  const sets = [
    byProvider.get(owner),
    owner === metrics.getMeterProvider() ? byProvider.get(undefined) : undefined,
  ];
  for (const set of sets) {
    for (const reading of set ?? []) {
      try {
        if (!reading((value, attributes) => result.observe(value, attributes))) set!.delete(reading);
      } catch {
        // Telemetry never breaks the collection.
      }
    }
  }
}
