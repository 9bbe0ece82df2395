import type { ReadableSpan } from '@opentelemetry/sdk-trace';

/** A text that left the system: a span, a metric export, a log, a `/metrics` scrape... */
export interface ScannedText {
  /** Where it came from, for the failure message. */
  readonly source: string;
  readonly text: string;
}

/** One secret found where it must never be. */
export interface Finding {
  readonly secret: string;
  readonly source: string;
  /** Up to 60 characters around the match. */
  readonly excerpt: string;
}

/**
 * The forms a secret can take once serialized: as is, JSON-escaped, URL-encoded, base64. A scan that
 * only looked for the raw value would miss a key that went out inside a JSON string or a URL.
 */
function variants(secret: string): string[] {
  const forms = new Set([
    secret,
    JSON.stringify(secret).slice(1, -1),
    encodeURIComponent(secret),
    Buffer.from(secret).toString('base64').replace(/=+$/, ''),
  ]);
  return [...forms].filter((form) => form.length >= 6);
}

/**
 * Collects the secrets a test used (client API keys, provider keys, admin tokens, prompt canaries) and
 * scans everything the system emitted for any of them.
 *
 * @example
 * const scanner = new SecretScanner();
 * scanner.add('client key', 'sk-client-123');
 * expect(scanner.scan([{ source: 'logs', text: gw.logs() }])).toEqual([]);
 */
export class SecretScanner {
  readonly #secrets = new Map<string, string>();

  /** Remember a value that must never appear in telemetry or logs. Returns the value. */
  add(label: string, value: string): string {
    if (value.length < 6) throw new Error(`secret '${label}' is too short to scan for reliably`);
    this.#secrets.set(value, label);
    return value;
  }

  get size(): number {
    return this.#secrets.size;
  }

  scan(texts: readonly ScannedText[]): Finding[] {
    const findings: Finding[] = [];
    for (const [secret, label] of this.#secrets) {
      const forms = variants(secret);
      for (const { source, text } of texts) {
        for (const form of forms) {
          const at = text.indexOf(form);
          if (at === -1) continue;
          findings.push({
            secret: label,
            source,
            excerpt: text.slice(Math.max(0, at - 20), at + form.length + 20),
          });
          break;
        }
      }
    }
    return findings;
  }
}

/** Every field of a finished span as text: name, attributes, events, links, status, resource. */
export function spanTexts(spans: readonly ReadableSpan[]): ScannedText[] {
  return spans.map((span) => ({
    source: `span '${span.name}'`,
    text: JSON.stringify({
      name: span.name,
      attributes: span.attributes,
      events: span.events,
      links: span.links,
      status: span.status,
      resource: span.resource.attributes,
    }),
  }));
}

type ConsoleMethod = 'log' | 'info' | 'warn' | 'error' | 'debug' | 'trace';
const CONSOLE_METHODS: readonly ConsoleMethod[] = ['log', 'info', 'warn', 'error', 'debug', 'trace'];

/**
 * Capture what this process logs (console methods and direct stdout/stderr writes) while still
 * printing it. vitest routes `console.*` around `process.stdout`, so both are patched.
 */
export function captureOutput(): { text(): string; restore(): void } {
  let captured = '';
  const streams = [process.stdout, process.stderr] as const;
  const writes = streams.map((stream) => stream.write);
  streams.forEach((stream, index) => {
    const original = writes[index]!;
    stream.write = function write(this: unknown, chunk: unknown, ...rest: unknown[]) {
      captured += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
      return (original as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
    } as typeof stream.write;
  });
  const consoles = CONSOLE_METHODS.map((method) => console[method]);
  CONSOLE_METHODS.forEach((method, index) => {
    const original = consoles[index]!;
    console[method] = (...args: unknown[]) => {
      captured += `${args.map((arg) => (typeof arg === 'string' ? arg : safeJson(arg))).join(' ')}\n`;
      original.apply(console, args);
    };
  });
  return {
    text: () => captured,
    restore() {
      streams.forEach((stream, index) => {
        stream.write = writes[index]!;
      });
      CONSOLE_METHODS.forEach((method, index) => {
        console[method] = consoles[index]!;
      });
    },
  };
}

function safeJson(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}\n${value.stack ?? ''}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
