import type { z } from 'zod';
import { redactText, redactUrl } from '../../core/redact.ts';

/** A configuration problem found at start. The message names the key, the value and what was expected. */
export class ConfigError extends Error {
  /** One line per problem, each starting with `config error:`. */
  readonly problems: readonly string[];
  /** The file the problems are in, when there is one. */
  readonly source: string | undefined;
  constructor(problems: readonly string[], source?: string) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
    this.source = source;
  }
}

export function isConfigError(value: unknown): value is ConfigError {
  return (
    value instanceof Error && value.name === 'ConfigError' && Array.isArray((value as ConfigError).problems)
  );
}

type Path = readonly PropertyKey[];

/** `tiers.free.requests_per_minute`, `api_keys[0].tier`, `ai_models."gpt-4o".provider`. */
export function formatPath(path: Path): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else {
      const key = String(part);
      const bare = /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
      out += out === '' ? bare : `.${bare}`;
    }
  }
  return out === '' ? '(top level)' : out;
}

function valueAt(root: unknown, path: Path): unknown {
  let current = root;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[part as string];
  }
  return current;
}

/**
 * A value as a config error prints it, secrets masked: an API key not at all, a URL through
 * `redactUrl` (a Redis URL carries its password), other text through `redactText`.
 */
function show(path: Path, value: unknown): string {
  if (typeof value !== 'string') return JSON.stringify(value) ?? String(value);
  const name = String(path.at(-1) ?? '');
  if (name === 'key') return '"<redacted>"';
  const safe = /url$/.test(name) ? redactUrl(value) : redactText(value);
  return JSON.stringify(safe.length > 120 ? `${safe.slice(0, 117)}...` : safe);
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

/** The closest known key, when it is close enough to be a typo. */
export function suggest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const d = distance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

interface SchemaDef {
  type: string;
  shape?: Record<string, { def: SchemaDef }>;
  valueType?: { def: SchemaDef };
  element?: { def: SchemaDef };
  innerType?: { def: SchemaDef };
  in?: { def: SchemaDef };
}

/** The keys an object schema accepts at `path` (walking records, arrays and optionals). */
function knownKeysAt(schema: z.ZodType, path: Path): string[] {
  let def = (schema as unknown as { def: SchemaDef }).def;
  const unwrap = () => {
    while (def.innerType || (def.type === 'pipe' && def.in)) def = (def.innerType ?? def.in)!.def;
  };
  unwrap();
  for (const part of path) {
    if (def.type === 'object' && def.shape && typeof part === 'string' && def.shape[part])
      def = def.shape[part].def;
    else if (def.type === 'record' && def.valueType) def = def.valueType.def;
    else if (def.type === 'array' && def.element) def = def.element.def;
    else return [];
    unwrap();
  }
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

/**
 * One readable line per zod issue: `config error: tiers.free.requests_per_minute = -5: expected a
 * positive integer`, with the environment variable named when the value came from one, and a
 * "did you mean" hint for unknown keys.
 */
export function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  schema: z.ZodType,
  envSources: ReadonlyMap<string, string>,
): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, issue.path);
      for (const key of issue.keys) {
        const hint = suggest(key, known);
        const at = formatPath([...issue.path, key]);
        lines.push(
          `config error: unknown key ${at}${hint ? `: did you mean ${formatPath([...issue.path, hint])}?` : ''}` +
            (known.length > 0 ? ` (known keys: ${known.join(', ')})` : ''),
        );
      }
      continue;
    }
    const path = formatPath(issue.path);
    const value = valueAt(input, issue.path);
    const env = envSources.get(path);
    const from = env ? ` (from ${env})` : '';
    const expected = /^expected /.test(issue.message)
      ? issue.message
      : `expected ${issue.message.replace(/^Invalid input: expected /, '')}`;
    lines.push(
      value === undefined
        ? `config error: ${path} is missing${from}: ${expected}`
        : `config error: ${path} = ${show(issue.path, value)}${from}: ${expected}`,
    );
  }
  return lines;
}
