/**
 * The progress display: one live status line on a terminal (rewritten in place), plain log lines
 * otherwise (CI logs), always on stderr so stdout carries only the report.
 */
export class Progress {
  readonly #stream: NodeJS.WriteStream;
  readonly #live: boolean;
  readonly #startedAt = performance.now();
  #prefix = '';
  #lastLineLength = 0;

  constructor(stream: NodeJS.WriteStream = process.stderr, quiet = false) {
    this.#stream = stream;
    this.#live = !quiet && stream.isTTY === true;
  }

  #clock(): string {
    const seconds = Math.round((performance.now() - this.#startedAt) / 1000);
    return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
  }

  /** A new scenario starts: `[2/7] miss-path overhead`. */
  scenario(index: number, count: number, title: string): void {
    this.#prefix = `[${index}/${count}] ${title}`;
    this.log(`${this.#prefix}`);
  }

  /** Live update while a phase runs (terminal only). */
  update(text: string): void {
    if (!this.#live) return;
    const line = `${this.#clock()} ${this.#prefix} · ${text}`;
    const width = this.#stream.columns ?? 120;
    const shown = line.length > width - 1 ? `${line.slice(0, width - 2)}…` : line;
    this.#stream.write(`\r\x1b[K${shown}`);
    this.#lastLineLength = shown.length;
  }

  /** A line that stays (a phase finished, a warning). */
  log(text: string): void {
    if (this.#live && this.#lastLineLength > 0) this.#stream.write('\r\x1b[K');
    this.#lastLineLength = 0;
    this.#stream.write(`${this.#clock()} ${text}\n`);
  }
}
