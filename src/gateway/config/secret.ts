import { inspect } from 'node:util';

/**
 * A secret value (API key, admin token) that prints as `[redacted]` in logs, JSON and `util.inspect`,
 * so a config object can be logged or serialised without leaking it. `reveal()` is the only way out.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
  [inspect.custom](): string {
    return 'Secret([redacted])';
  }
}
