import { isLoopback, readLocalToken } from '../gateway/admin-token.ts';

/** A failure the CLI reports in one line, with its exit code. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export interface AdminClientOptions {
  /** Gateway base URL. */
  url: string;
  /** Where an implicit URL came from (`PORT`, `ALCHEMIST_URL`...), named when the gateway cannot be reached. */
  from?: string;
  /** Admin token (`--token`, ADMIN_TOKEN, or the local token file of a loopback gateway). */
  token: string | undefined;
  /** Per-request timeout, ms. */
  timeoutMs: number;
}

/** Resolve the token: explicit, then ADMIN_TOKEN, then the file a loopback gateway wrote for its port. */
export function resolveToken(
  url: string,
  explicit: string | undefined,
  env: NodeJS.ProcessEnv,
): string | undefined {
  if (explicit) return explicit;
  if (env.ADMIN_TOKEN?.trim()) return env.ADMIN_TOKEN.trim();
  const parsed = new URL(url);
  const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  return isLoopback(parsed.hostname) ? readLocalToken(port) : undefined;
}

/** Call an admin route; every failure becomes a CliError with a message a person can act on. */
export async function adminRequest(
  options: AdminClientOptions,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<unknown> {
  const target = `${options.url.replace(/\/+$/, '')}${path}`;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(target, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new CliError(
      `cannot reach the gateway at ${options.url}${options.from ? ` (from ${options.from})` : ''} (${cause}): is it running? Start it with \`alchemist-perf serve\`, or pass --url`,
    );
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (response.ok) {
    if (parsed === undefined)
      throw new CliError(
        `${options.url} answered ${path} with something that is not JSON: is it an alchemist-perf gateway?`,
      );
    return parsed;
  }
  const code = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error?.code;
  if (response.status === 401) {
    throw new CliError(
      options.token
        ? `the gateway at ${options.url} rejected the admin token (401): check ADMIN_TOKEN or --token`
        : `the gateway at ${options.url} needs an admin token (401): set ADMIN_TOKEN or pass --token`,
    );
  }
  if (response.status === 404 && code === 'admin_disabled') {
    throw new CliError(`the admin API is disabled on ${options.url}: start the gateway with ADMIN_TOKEN set`);
  }
  const message = (parsed as { error?: { message?: string } } | undefined)?.error?.message;
  throw new CliError(`${method} ${path} failed with ${response.status}${message ? `: ${message}` : ''}`);
}
