import type {
  Attributes,
  AttributeValue,
  Counter,
  Gauge,
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

interface Series {
  readonly attributes: Attributes;
  value: number;
}

/** One step of the attribute trie: attribute name → value → next step. */
interface Step {
  readonly next: Map<string, Map<unknown, Step>>;
  series?: Series;
}

/**
 * The trie key of a value. Primitives are their own key (a Map keeps `1`, `'1'` and `true` apart, as
 * the SDK does); arrays are keyed by their JSON, tagged so no string can collide with them.
 */
function valueKey(value: AttributeValue | undefined): unknown {
  return typeof value === 'object' && value !== null ? `\u0000array:${JSON.stringify(value)}` : value;
}

/** A type-tagged text of one value, for merging series at collection time. */
function valueText(value: AttributeValue | undefined): string {
  return typeof value === 'string' ? value : `\u0000${typeof value}:${JSON.stringify(value)}`;
}

/** How a new value meets a series' current one: summed (counters) or replacing it (gauges). */
type Mode = 'sum' | 'last';

/**
 * Counters, up-down counters and gauges whose values land in in-process series that an observable
 * instrument reports at each collection. The SDK's synchronous instruments hash the attribute set on
 * every call (sort the keys, build a JSON string): 12% of the bytes a cache hit allocated. Here a
 * call walks a trie of Maps keyed by attribute name and value, allocating nothing once a series
 * exists, and the SDK sees each series once per export. The data is the same: a monotonic or
 * non-monotonic Sum (cumulative or delta as the reader asks), or a Gauge of the last value.
 */
class Accumulator implements Counter, UpDownCounter, Gauge {
  readonly #mode: Mode;
  readonly #monotonic: boolean;
  readonly #root: Step = { next: new Map() };
  readonly #series: Series[] = [];
  #overflow: Series | undefined;

  constructor(mode: Mode, monotonic = false) {
    this.#mode = mode;
    this.#monotonic = monotonic;
  }

  add(value: number, attributes: Attributes = {}): void {
    // The SDK drops these with a warning; so do we, without the warning on a hot path.
    if (!Number.isFinite(value) || (this.#monotonic && value < 0)) return;
    const series = this.#find(attributes) ?? this.#insert(attributes);
    series.value += value;
  }

  record(value: number, attributes: Attributes = {}): void {
    if (!Number.isFinite(value)) return;
    const series = this.#find(attributes) ?? this.#insert(attributes);
    series.value = value;
  }

  #find(attributes: Attributes): Series | undefined {
    let step: Step | undefined = this.#root;
    for (const name in attributes) {
      const value = attributes[name];
      if (value === undefined) continue;
      step = step.next.get(name)?.get(valueKey(value));
      if (step === undefined) return undefined;
    }
    return step.series;
  }

  #insert(attributes: Attributes): Series {
    // Past the limit, new attribute sets grow nothing: they all land in the overflow series.
    if (this.#series.length >= SERIES_LIMIT) {
      this.#overflow ??= { attributes: OVERFLOW_ATTRIBUTES, value: 0 };
      return this.#overflow;
    }
    let step = this.#root;
    const kept: Attributes = {};
    for (const name in attributes) {
      const value = attributes[name];
      // The SDK drops attributes without a value; they must not make a series of their own.
      if (value === undefined) continue;
      kept[name] = value;
      let byValue = step.next.get(name);
      if (byValue === undefined) {
        byValue = new Map();
        step.next.set(name, byValue);
      }
      const key = valueKey(value);
      let child = byValue.get(key);
      if (child === undefined) {
        child = { next: new Map() };
        byValue.set(key, child);
      }
      step = child;
    }
    step.series = { attributes: kept, value: 0 };
    this.#series.push(step.series);
    return step.series;
  }

  /** Report every series; attribute sets that differ only in key order are one series to the SDK. */
  observe(result: ObservableResult): void {
    const merged = new Map<string, Series>();
    for (const series of this.#overflow ? [...this.#series, this.#overflow] : this.#series) {
      const names = Object.keys(series.attributes).sort();
      const key = names.map((name) => `${name}\u0000${valueText(series.attributes[name])}`).join('\u0001');
      const existing = merged.get(key);
      if (existing === undefined) merged.set(key, { attributes: series.attributes, value: series.value });
      else if (this.#mode === 'sum') existing.value += series.value;
      else existing.value = series.value;
    }
    for (const series of merged.values()) result.observe(series.value, series.attributes);
  }
}

/** A monotonic counter backed by an observable counter (see Accumulator). */
export function createAccumulatingCounter(meter: Meter, name: string, options: MetricOptions): Counter {
  const counter = new Accumulator('sum', true);
  meter.createObservableCounter(name, options).addCallback((result) => counter.observe(result));
  return counter;
}

/** An up-down counter backed by an observable up-down counter (see Accumulator). */
export function createAccumulatingUpDownCounter(
  meter: Meter,
  name: string,
  options: MetricOptions,
): UpDownCounter {
  const counter = new Accumulator('sum');
  meter.createObservableUpDownCounter(name, options).addCallback((result) => counter.observe(result));
  return counter;
}

/**
 * A gauge of the last value recorded per attribute set, backed by an observable gauge (see Accumulator);
 * `alsoObserve` adds values read at collection time (see collected.ts).
 */
export function createAccumulatingGauge(
  meter: Meter,
  name: string,
  options: MetricOptions,
  alsoObserve?: (result: ObservableResult) => void,
): Gauge {
  const gauge = new Accumulator('last');
  meter.createObservableGauge(name, options).addCallback((result) => {
    gauge.observe(result);
    alsoObserve?.(result);
  });
  return gauge;
}
