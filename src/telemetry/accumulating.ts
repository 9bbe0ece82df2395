import type {
  Attributes,
  AttributeValue,
  Counter,
  Meter,
  MetricOptions,
  ObservableResult,
  UpDownCounter,
} from '@opentelemetry/api';

/**
 * Series kept per instrument before new attribute sets fold into one overflow series: with it, the
 * SDK's default cardinality limit (2000 points per metric stream), which would otherwise merge the rest.
 */
export const SERIES_LIMIT = 1999;
/** The attribute the OTel metrics spec gives the overflow series. */
const OVERFLOW_ATTRIBUTES: Attributes = Object.freeze({ 'otel.metric.overflow': true });
/** No attribute key can produce it: keys end in \u0001. */
const OVERFLOW_KEY = '\u0002overflow';

interface Series {
  readonly attributes: Attributes;
  value: number;
}

/** A type-tagged key of one value, so `1`, `'1'` and `true` stay apart as the SDK keeps them. */
function valueKey(value: AttributeValue | undefined): string {
  return typeof value === 'string' ? value : `${typeof value}:${JSON.stringify(value)}`;
}

/**
 * A counter (or up-down counter) whose adds land in in-process sums that an observable instrument
 * reports at each collection. The SDK's synchronous instruments hash the attribute set on every add
 * (sort the keys, build a JSON string): a fifth of the bytes a cache hit allocated. Here an add is a
 * string key and a Map update, and the SDK sees each series once per export. The data is the same
 * (a monotonic or non-monotonic Sum, cumulative or delta as the reader asks).
 */
class AccumulatingCounter implements Counter, UpDownCounter {
  readonly #monotonic: boolean;
  readonly #series = new Map<string, Series>();

  constructor(monotonic: boolean) {
    this.#monotonic = monotonic;
  }

  add(value: number, attributes: Attributes = {}): void {
    // The SDK drops these with a warning; so do we, without the warning on a hot path.
    if (!Number.isFinite(value) || (this.#monotonic && value < 0)) return;
    let key = '';
    for (const name in attributes) key += `${name}\u0000${valueKey(attributes[name])}\u0001`;
    const series = this.#series.get(key) ?? this.#newSeries(key, attributes);
    series.value += value;
  }

  #newSeries(key: string, attributes: Attributes): Series {
    if (this.#series.size >= SERIES_LIMIT) {
      let overflow = this.#series.get(OVERFLOW_KEY);
      if (overflow === undefined) {
        overflow = { attributes: OVERFLOW_ATTRIBUTES, value: 0 };
        this.#series.set(OVERFLOW_KEY, overflow);
      }
      return overflow;
    }
    const series = { attributes: { ...attributes }, value: 0 };
    this.#series.set(key, series);
    return series;
  }

  /** Report every series; attribute sets that differ only in key order are one series to the SDK. */
  observe(result: ObservableResult): void {
    const merged = new Map<string, Series>();
    for (const series of this.#series.values()) {
      const names = Object.keys(series.attributes).sort();
      const key = names.map((name) => `${name}\u0000${valueKey(series.attributes[name])}`).join('\u0001');
      const existing = merged.get(key);
      if (existing) existing.value += series.value;
      else merged.set(key, { attributes: series.attributes, value: series.value });
    }
    for (const series of merged.values()) result.observe(series.value, series.attributes);
  }
}

/** A monotonic counter backed by an observable counter (see AccumulatingCounter). */
export function createAccumulatingCounter(meter: Meter, name: string, options: MetricOptions): Counter {
  const counter = new AccumulatingCounter(true);
  meter.createObservableCounter(name, options).addCallback((result) => counter.observe(result));
  return counter;
}

/** An up-down counter backed by an observable up-down counter (see AccumulatingCounter). */
export function createAccumulatingUpDownCounter(
  meter: Meter,
  name: string,
  options: MetricOptions,
): UpDownCounter {
  const counter = new AccumulatingCounter(false);
  meter.createObservableUpDownCounter(name, options).addCallback((result) => counter.observe(result));
  return counter;
}
