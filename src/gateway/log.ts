import { redactText } from '../core/redact.ts';

/** Fields on a log line: plain values only. Callers never pass headers, keys or prompts. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  /** Where lines go. @default process.stderr */
  write?: (line: string) => void;
  /** `text` (readable) or `json` (one object per line). @default process.env.ALCHEMIST_LOG_FORMAT ?? 'text' */
  format?: 'text' | 'json';
}

function render(value: unknown): string {
  const text = String(value);
  return /[\s"=]/.test(text) ? JSON.stringify(text) : text;
}

/** A field's value with secrets masked (callers pass no keys, but a message from elsewhere may hold one). */
function scrubbed(value: LogFields[string]): LogFields[string] {
  return typeof value === 'string' ? redactText(value) : value;
}

/**
 * A small line logger for the gateway process: timestamp, level, message, key=value fields. Every
 * message and string field goes through `redactText`, so no registered secret or key-shaped value
 * reaches a log line.
 *
 * @example
 * const log = createLogger({ format: 'json' });
 * log.info('listening', { url: 'http://127.0.0.1:8787' });
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const format = options.format ?? (process.env.ALCHEMIST_LOG_FORMAT === 'json' ? 'json' : 'text');
  const emit = (level: string, text: string, raw: LogFields = {}) => {
    const time = new Date().toISOString();
    const message = redactText(text);
    const fields: LogFields = {};
    for (const [key, value] of Object.entries(raw)) fields[key] = scrubbed(value);
    if (format === 'json') {
      write(JSON.stringify({ time, level, msg: message, ...fields }));
      return;
    }
    const rest = Object.entries(fields)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${key}=${render(value)}`)
      .join(' ');
    write(`${time} ${level.padEnd(5)} ${message}${rest ? ` ${rest}` : ''}`);
  };
  return {
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
  };
}

/** A logger that drops everything (tests, embedding). */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
