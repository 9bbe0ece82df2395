import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/ports.ts';

/** A real `prometheus` (Debian's package) on a free loopback port, with its TSDB in a temp dir. */
export interface PrometheusServer {
  readonly url: string;
  readonly dir: string;
  /** Instant query; throws on an error status. */
  query(expr: string, time?: number): Promise<PromVector>;
  /** Exemplars of the series `selector` selects between `start` and `end` (unix seconds). */
  exemplars(selector: string, start: number, end: number): Promise<PromExemplars>;
  /** Range query from `start` to `end` (unix seconds). */
  queryRange(expr: string, start: number, end: number, step: number): Promise<PromMatrix>;
  stop(): Promise<void>;
}

export type PromVector = { metric: Record<string, string>; value: [number, string] }[];
export type PromExemplars = {
  seriesLabels: Record<string, string>;
  exemplars: { labels: Record<string, string>; value: string; timestamp: number }[];
}[];
export type PromMatrix = { metric: Record<string, string>; values: [number, string][] }[];

interface ApiAnswer<T> {
  status: 'success' | 'error';
  error?: string;
  data: T;
}

async function api<T>(url: string, path: string, params: Record<string, string>): Promise<T> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
    signal: AbortSignal.timeout(10_000),
  });
  const answer = (await response.json()) as ApiAnswer<T>;
  if (answer.status !== 'success') throw new Error(`${params.query}: ${answer.error ?? response.status}`);
  return answer.data;
}

/**
 * Start Prometheus with `config` (YAML text). Resolves once `/-/ready` answers; the caller must `stop()`.
 * Logs go to `<dir>/prometheus.log`.
 */
export async function startPrometheus(
  name: string,
  config: string,
  extraArgs: readonly string[] = [],
): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), `alchemist-prom-${name}-`));
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const log = openSync(join(dir, 'prometheus.log'), 'w');
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
      '--log.level=warn',
      ...extraArgs,
    ],
    { stdio: ['ignore', log, log] },
  );
  child.on('error', () => {});
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus ${name} did not become ready (see its log)`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    dir,
    query: (expr, time) =>
      api<{ result: PromVector }>(url, '/api/v1/query', {
        query: expr,
        ...(time ? { time: String(time) } : {}),
      }).then((data) => data.result),
    exemplars: (selector, start, end) =>
      api<PromExemplars>(url, '/api/v1/query_exemplars', {
        query: selector,
        start: String(start),
        end: String(end),
      }),
    queryRange: (expr, start, end, step) =>
      api<{ result: PromMatrix }>(url, '/api/v1/query_range', {
        query: expr,
        start: String(start),
        end: String(end),
        step: String(step),
      }).then((data) => data.result),
    stop,
  };
}
