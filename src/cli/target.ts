import { isConfigError } from '../gateway/config/errors.ts';
import { loadConfig } from '../gateway/config/load.ts';
import { CliError } from './client.ts';

/** The gateway URL the CLI talks to, and where it came from (said in every "cannot reach" line). */
export interface GatewayTarget {
  readonly url: string;
  /** `ALCHEMIST_URL`, `PORT`, `[server] in alchemist.toml`, `the default`...; none for `--url`. */
  readonly from?: string;
}

/** A listening address as a URL a client can connect to: a wildcard bind is reached on loopback. */
function connectableUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

/**
 * Find the gateway the way `serve` chose its address: `--url`, then `ALCHEMIST_URL`, then the server
 * config (`--config` or `ALCHEMIST_CONFIG`, with `PORT`/`HOST` overriding it), then 127.0.0.1:8787.
 */
export function gatewayTarget(
  explicit: string | undefined,
  configPath: string | undefined,
  env: NodeJS.ProcessEnv,
): GatewayTarget {
  const given = explicit ?? env.ALCHEMIST_URL?.trim();
  if (given) {
    try {
      new URL(given);
    } catch {
      throw new CliError(`${explicit ? '--url' : 'ALCHEMIST_URL'} ${JSON.stringify(given)} is not a URL`, 2);
    }
    return explicit ? { url: given } : { url: given, from: 'ALCHEMIST_URL' };
  }
  let server: { host: string; port: number };
  let source: string | undefined;
  try {
    const config = loadConfig({ ...(configPath === undefined ? {} : { path: configPath }), env });
    server = config.server;
    source = config.source;
  } catch (error) {
    if (!isConfigError(error)) throw error;
    throw new CliError(`cannot tell where the gateway listens, pass --url: ${error.message}`, 2);
  }
  const overrides = ['HOST', 'PORT'].filter((name) => env[name]?.trim());
  const from =
    overrides.length > 0
      ? overrides.join(' and ')
      : source !== undefined
        ? `[server] in ${source}`
        : 'the default; set ALCHEMIST_URL or pass --url for another gateway';
  return { url: connectableUrl(server.host, server.port), from };
}
