/** One admitted call in a window: when, and how many units it counts for (settlement may change it). */
export interface LogEntry {
  readonly at: number;
  amount: number;
}

/**
 * An exact sliding-window log: the units admitted in the last `windowMs`. Unlike a token bucket
 * (which allows `capacity` at once plus the refill within the same minute, nearly twice the rate in
 * one window), it guarantees that no window of `windowMs` ever holds more than the limit, which is
 * what a provider's per-minute limit demands. Memory is one entry per call in the window.
 */
export class SlidingLog {
  readonly windowMs: number;
  #entries: LogEntry[] = [];
  #head = 0;
  #sum = 0;

  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  /** Drop entries that left the window `(now - windowMs, now]`. */
  prune(now: number): void {
    const cutoff = now - this.windowMs;
    const entries = this.#entries;
    while (this.#head < entries.length && entries[this.#head]!.at <= cutoff) {
      this.#sum -= entries[this.#head]!.amount;
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > entries.length) {
      this.#entries = entries.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Units in the window (call `prune` first). */
  get sum(): number {
    return this.#sum;
  }

  get count(): number {
    return this.#entries.length - this.#head;
  }

  add(at: number, amount: number): LogEntry {
    const entry = { at, amount };
    this.#entries.push(entry);
    this.#sum += amount;
    return entry;
  }

  /** Change an entry's units (settlement); entries already out of the window are ignored. */
  set(entry: LogEntry, amount: number, now: number): void {
    if (entry.at > now - this.windowMs) this.#sum += amount - entry.amount;
    entry.amount = amount;
  }

  /**
   * Earliest time at which `amount` more units fit under `limit`, assuming nothing else is admitted
   * (`extra` units are already promised to callers ahead in a queue). `now` when they fit already.
   */
  fitsAt(now: number, amount: number, limit: number, extra = 0): number {
    let excess = this.#sum + extra + amount - limit;
    if (excess <= 0) return now;
    const entries = this.#entries;
    for (let i = this.#head; i < entries.length; i++) {
      excess -= entries[i]!.amount;
      if (excess <= 0) return entries[i]!.at + this.windowMs;
    }
    // Beyond what today's entries free: the calls admitted as they expire free room again one
    // window after they start, so the schedule repeats every window (exact for unit amounts).
    const windows = Math.floor((excess - 1) / limit) + 1;
    let rest = excess - (windows - 1) * limit;
    for (let i = this.#head; i < entries.length; i++) {
      rest -= entries[i]!.amount;
      if (rest <= 0) return entries[i]!.at + this.windowMs * (windows + 1);
    }
    return now + this.windowMs * (windows + 1);
  }
}
