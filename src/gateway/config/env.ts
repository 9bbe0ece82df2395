/** Environment variables that override config keys (DESIGN.md config contract, plus OTEL_* standards). */
export const ENV_OVERRIDES = [
  { env: 'PORT', path: ['server', 'port'], kind: 'number' },
  { env: 'HOST', path: ['server', 'host'], kind: 'string' },
  { env: 'REDIS_URL', path: ['cache', 'redis_url'], kind: 'string' },
  { env: 'REDIS_CLUSTER_NODES', path: ['cache', 'redis_cluster'], kind: 'list' },
  { env: 'CACHE_ENABLED', path: ['cache', 'enabled'], kind: 'boolean' },
  { env: 'RATE_LIMIT_MULTIPLIER', path: ['rate_limit', 'multiplier'], kind: 'number' },
  { env: 'RATE_LIMIT_INSTANCES', path: ['rate_limit', 'instances'], kind: 'number' },
  { env: 'OPENAI_BASE_URL', path: ['providers', 'openai', 'base_url'], kind: 'string' },
  { env: 'ALCHEMIST_SIMULATOR', path: ['simulator', 'enabled'], kind: 'boolean-or-auto' },
  { env: 'OTEL_SERVICE_NAME', path: ['telemetry', 'service_name'], kind: 'string' },
  { env: 'OTEL_EXPORTER_PROMETHEUS_PORT', path: ['telemetry', 'prometheus_port'], kind: 'number' },
  { env: 'OTEL_EXPORTER_PROMETHEUS_HOST', path: ['telemetry', 'prometheus_host'], kind: 'string' },
  { env: 'OTEL_EXPORTER_OTLP_ENDPOINT', path: ['telemetry', 'otlp_endpoint'], kind: 'string' },
] as const;

export type Env = Readonly<Record<string, string | undefined>>;

/** An env value, or undefined when unset or blank (an empty variable means "not set"). */
export function envValue(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function convert(raw: string, kind: (typeof ENV_OVERRIDES)[number]['kind']): unknown {
  if (kind === 'number') return /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  if (kind === 'boolean' || kind === 'boolean-or-auto') {
    const lower = raw.toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(lower)) return true;
    if (['false', '0', 'no', 'off'].includes(lower)) return false;
    if (kind === 'boolean-or-auto' && lower === 'auto') return 'auto';
    return raw;
  }
  if (kind === 'list')
    return raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  return raw;
}

/**
 * Apply env overrides onto the parsed file (a copy), before validation, so an env value is checked
 * like a file value. Returns which config path came from which variable, for error messages.
 */
export function applyEnv(
  file: Record<string, unknown>,
  env: Env,
): { merged: Record<string, unknown>; sources: Map<string, string> } {
  const merged = structuredClone(file);
  const sources = new Map<string, string>();
  for (const override of ENV_OVERRIDES) {
    const raw = envValue(env, override.env);
    if (raw === undefined) continue;
    let target = merged;
    const path = override.path as readonly string[];
    for (const part of path.slice(0, -1)) {
      const next = target[part];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) target[part] = {};
      target = target[part] as Record<string, unknown>;
    }
    if (override.env === 'OPENAI_BASE_URL' && target.type === undefined) target.type = 'openai';
    target[path.at(-1)!] = convert(raw, override.kind);
    sources.set(path.join('.'), override.env);
  }
  return { merged, sources };
}
