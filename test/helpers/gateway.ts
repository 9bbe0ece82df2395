import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'smol-toml';
import { SecretScanner } from '../e2e/harness/secrets.ts';
import { freePort } from './ports.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = process.env.ALCHEMIST_GATEWAY_CLI ?? join(REPO_ROOT, 'src/cli/main.ts');

/** How to start one gateway process (`node src/cli/main.ts serve`). */
export interface GatewayOptions {
  /** TOML text written to a temp file and passed as `--config`. @default none (embedded defaults) */
  config?: string;
  /** `REDIS_URL` for the process. @default unset */
  redisUrl?: string;
  /** `ADMIN_TOKEN` for the process. @default unset (admin API disabled) */
  adminToken?: string;
  /** OTLP/HTTP endpoint for traces and metrics (e.g. an OtlpSink's url). @default unset */
  otlpEndpoint?: string;
  /** Extra environment; `undefined` removes an inherited variable. @default {} */
  env?: Record<string, string | undefined>;
  /** Name used in logs and as `OTEL_SERVICE_NAME`. @default `gateway-<port>` */
  name?: string;
  /** Script run as `<cli> serve [--config f]`. @default ALCHEMIST_GATEWAY_CLI ?? src/cli/main.ts */
  cli?: string;
  /** How long to wait for `/healthz`. @default 30000 */
  readyTimeoutMs?: number;
  /**
   * On `stop()`, scan the process's logs and a last `/metrics` scrape for the secrets it was given
   * (`[[api_keys]]` keys, `ADMIN_TOKEN`, env values named `*KEY`/`*TOKEN`/`*SECRET`/`*PASSWORD`) and
   * reject when one shows up, so every test that runs a gateway also checks the no-secrets rule.
   * @default true
   */
  scanSecrets?: boolean;
}

const SECRET_ENV = /(KEY|TOKEN|SECRET|PASSWORD)$/i;

/** The secrets a gateway process was handed, by label. */
function secretsOf(options: GatewayOptions): SecretScanner {
  const scanner = new SecretScanner();
  const add = (label: string, value: unknown) => {
    if (typeof value === 'string' && value.length >= 8) scanner.add(label, value);
  };
  add('ADMIN_TOKEN', options.adminToken);
  for (const [name, value] of Object.entries({ ...options.env })) {
    if (SECRET_ENV.test(name)) add(name, value);
  }
  if (options.config !== undefined) {
    try {
      const keys = (parse(options.config) as { api_keys?: { key?: unknown }[] }).api_keys ?? [];
      for (const [index, entry] of keys.entries()) add(`api_keys[${index}].key`, entry.key);
    } catch {
      // A config the gateway must reject: nothing to scan for.
    }
  }
  return scanner;
}

/** A gateway process owned by a test: free ports, captured logs, stop/kill. */
export interface GatewayProcess {
  readonly name: string;
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly port: number;
  /** Prometheus endpoint (`OTEL_EXPORTER_PROMETHEUS_PORT`). */
  readonly metricsUrl: string;
  readonly pid: number;
  /** Everything the process wrote to stdout and stderr so far. */
  logs(): string;
  /** Scrape `/metrics` (Prometheus text). */
  metrics(): Promise<string>;
  /** True once the process has exited. */
  readonly exited: boolean;
  readonly exitCode: number | null;
  /**
   * SIGTERM, wait up to `timeoutMs` for a graceful exit, then SIGKILL. Resolves with the exit code;
   * rejects when a secret the process was given appears in its logs or `/metrics` (see `scanSecrets`).
   */
  stop(timeoutMs?: number): Promise<number | null>;
  /** SIGKILL (a crash). */
  kill(): Promise<void>;
}

const running = new Set<ChildProcess>();
// Safety net: a test that forgot afterAll must not leave gateways behind when the worker exits.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function waitHealthy(url: string, child: ChildProcess, logs: () => string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`gateway exited (${child.exitCode ?? child.signalCode}) before /healthz:\n${logs()}`);
    }
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gateway at ${url} not healthy after ${timeoutMs} ms:\n${logs()}`);
}

/**
 * Spawn a gateway (`process.execPath src/cli/main.ts serve --config <tmp>`) on free loopback ports and
 * wait until `/healthz` answers. Logs are captured for assertions and secret scans.
 *
 * @example
 * const gw = await startGateway({ config: toml, redisUrl: redis.url });
 * afterAll(() => gw.stop());
 */
export async function startGateway(options: GatewayOptions = {}): Promise<GatewayProcess> {
  // A port free when picked can be taken by a parallel test before the gateway binds it: pick again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      if (attempt >= 3 || !(error instanceof Error) || !/address is in use|EADDRINUSE/.test(error.message)) {
        throw error;
      }
    }
  }
}

async function startOnce(options: GatewayOptions): Promise<GatewayProcess> {
  const port = await freePort();
  const metricsPort = await freePort();
  const name = options.name ?? `gateway-${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'alchemist-gw-'));
  const args = [options.cli ?? CLI, 'serve'];
  if (options.config !== undefined) {
    const file = join(dir, 'alchemist.toml');
    writeFileSync(file, options.config);
    args.push('--config', file);
  }
  const env: Record<string, string | undefined> = {
    ...process.env,
    PORT: String(port),
    OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
    OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
    OTEL_SERVICE_NAME: name,
    // Export spans and metrics quickly so a scan after stop() sees everything.
    OTEL_BSP_SCHEDULE_DELAY: '200',
    OTEL_METRIC_EXPORT_INTERVAL: '1000',
    REDIS_URL: options.redisUrl,
    ADMIN_TOKEN: options.adminToken,
    OTEL_EXPORTER_OTLP_ENDPOINT: options.otlpEndpoint,
    ...options.env,
  };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => {
    running.delete(child);
    rmSync(dir, { recursive: true, force: true });
  });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    output += text;
  });
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    output += text;
  });
  const url = `http://127.0.0.1:${port}`;
  const logs = () => output;
  try {
    await waitHealthy(url, child, logs, options.readyTimeoutMs ?? 30_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const kill = async () => {
    const exited = exitOf(child);
    child.kill('SIGKILL');
    await exited;
  };
  return {
    name,
    url,
    port,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    pid: child.pid ?? -1,
    logs,
    async metrics() {
      const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, {
        signal: AbortSignal.timeout(5000),
      });
      return response.text();
    },
    get exited() {
      return child.exitCode !== null || child.signalCode !== null;
    },
    get exitCode() {
      return child.exitCode;
    },
    async stop(timeoutMs = 10_000) {
      let metricsText = '';
      if (child.exitCode === null && child.signalCode === null) {
        if (options.scanSecrets !== false) {
          metricsText = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, {
            signal: AbortSignal.timeout(2000),
          })
            .then((response) => response.text())
            .catch(() => '');
        }
        const exited = exitOf(child);
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(timer);
      }
      if (options.scanSecrets !== false) {
        const findings = secretsOf(options).scan([
          { source: `${name} logs`, text: output },
          { source: `${name} /metrics`, text: metricsText },
        ]);
        if (findings.length > 0) {
          throw new Error(`${name} leaked secrets: ${JSON.stringify(findings, null, 2)}`);
        }
      }
      return child.exitCode;
    },
    kill,
  };
}

/**
 * Start `count` gateways with the same options (names `<name>-0`, `<name>-1`, ...), in parallel. When
 * one fails to start, the others are killed before the error is thrown (nothing is left running).
 */
export async function startGateways(count: number, options: GatewayOptions = {}): Promise<GatewayProcess[]> {
  const results = await Promise.allSettled(
    Array.from({ length: count }, (_, index) =>
      startGateway({ ...options, name: `${options.name ?? 'gateway'}-${index}` }),
    ),
  );
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) {
    await Promise.all(
      results.map((result) => (result.status === 'fulfilled' ? result.value.kill() : undefined)),
    );
    throw failed.reason;
  }
  return results.map((result) => (result as PromiseFulfilledResult<GatewayProcess>).value);
}
