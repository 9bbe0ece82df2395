/** Metric label values that come from requests (model names) are capped so cardinality stays bounded. */
export const OTHER_LABEL = '_OTHER';

/**
 * Remembers up to `limit` distinct values; any further new value is reported as `_OTHER`.
 * Values in `known` (e.g. configured models) always pass.
 */
export class BoundedLabel {
  readonly #seen = new Set<string>();
  #limit: number;

  constructor(limit = 64, known: Iterable<string> = []) {
    this.#limit = limit;
    for (const value of known) this.#seen.add(value);
  }

  /**
   * Always pass these values (configured models), even after request-supplied values filled the
   * bound: a flood of junk names must not turn a configured model into `_OTHER`.
   */
  reserve(values: Iterable<string>): void {
    for (const value of values) {
      if (this.#seen.has(value)) continue;
      this.#seen.add(value);
      this.#limit++;
    }
  }

  get(value: string): string {
    if (this.#seen.has(value)) return value;
    if (this.#seen.size >= this.#limit || value.length > 128) return OTHER_LABEL;
    this.#seen.add(value);
    return value;
  }
}

/** Shared caps for the label values every instrument uses. */
export const modelLabel = new BoundedLabel(64);
export const providerLabel = new BoundedLabel(16);
export const tierLabel = new BoundedLabel(16);
export const routeLabel = new BoundedLabel(32);
