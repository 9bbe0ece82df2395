#!/usr/bin/env node
// alchemist-perf CLI: serve, stats, clear-cache, budgets, export, bench, simulate.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PACKAGE_VERSION } from '../telemetry/version.ts';
import { CliError, resolveToken } from './client.ts';
import { budgetsCommand, clearCacheCommand, exportCommand, statsCommand } from './commands.ts';
import { gatewayTarget } from './target.ts';

const HELP = `alchemist-perf ${PACKAGE_VERSION}: caching, rate limits and circuit breakers for AI calls

Usage: alchemist-perf <command> [options]

Commands:
  serve [--config file]          start the OpenAI-compatible gateway (config also from ALCHEMIST_CONFIG)
  stats [--json] [--watch [s]]   hit rate, latencies, limits and breakers of a running gateway
  clear-cache [--tenant t]       clear the whole cache, or one tenant's entries
  budgets [--json]               spend per tenant against its budget this period
  export [--out file]            the JSON summary (stats + effective config, secrets removed)
  bench [args]                   run the benchmarks (bench/main.ts)
  simulate [--port p]            run the simulated provider on its own

Options for stats, clear-cache, budgets and export:
  --url <url>      gateway URL (default ALCHEMIST_URL, else where serve listens: --config or
                   ALCHEMIST_CONFIG [server], PORT and HOST, else http://127.0.0.1:8787)
  --token <token>  admin token (default ADMIN_TOKEN, or the local token of a loopback gateway)
  --timeout <ms>   per-request timeout (default 5000)
`;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const write = (text: string) => process.stdout.write(text);

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    write(HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === 'version') {
    write(`${PACKAGE_VERSION}\n`);
    return 0;
  }
  if (command === 'bench')
    return delegate(
      `${ROOT}bench/main.ts`,
      rest,
      'the benchmarks (bench/main.ts) are not in this installation',
    );
  if (command === 'simulate') {
    const { runSimulatorCli } = await import('../simulator/cli.ts');
    await runSimulatorCli(rest);
    return -1; // keeps running until a signal
  }

  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      url: { type: 'string' },
      token: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean', default: false },
      watch: { type: 'boolean', short: 'w', default: false },
      interval: { type: 'string' },
      tenant: { type: 'string' },
      out: { type: 'string', short: 'o' },
    },
  });
  if (command === 'serve') {
    const { serve } = await import('./serve.ts');
    await serve(values.config);
    return -1; // keeps running until a signal
  }
  const { url, from } = gatewayTarget(values.url, values.config, process.env);
  const timeoutMs = values.timeout === undefined ? 5000 : Number(values.timeout);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new CliError(`--timeout ${values.timeout}: expected milliseconds > 0`, 2);
  const client = { url, from, token: resolveToken(url, values.token, process.env), timeoutMs };
  switch (command) {
    case 'stats': {
      const interval = values.interval === undefined ? 2 : Number(values.interval);
      if (!Number.isFinite(interval) || interval <= 0)
        throw new CliError(`--interval ${values.interval}: expected seconds > 0`, 2);
      const controller = new AbortController();
      process.once('SIGINT', () => controller.abort());
      await statsCommand({
        ...client,
        json: values.json,
        watch: values.watch ? interval : undefined,
        write,
        signal: controller.signal,
      });
      return 0;
    }
    case 'clear-cache':
      await clearCacheCommand({ ...client, tenant: values.tenant, write });
      return 0;
    case 'budgets':
      await budgetsCommand({ ...client, json: values.json, write });
      return 0;
    case 'export':
      await exportCommand({ ...client, out: values.out, write });
      return 0;
    default:
      throw new CliError(`unknown command ${JSON.stringify(command)}\n\n${HELP}`, 2);
  }
}

function delegate(script: string, args: string[], missing: string): Promise<number> {
  if (!existsSync(script)) throw new CliError(missing);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

try {
  const code = await main(process.argv.slice(2));
  if (code >= 0) process.exitCode = code;
} catch (error) {
  if (error instanceof CliError) {
    process.stderr.write(`alchemist-perf: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`alchemist-perf: ${(error as Error).message}\n\n${HELP}`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`alchemist-perf: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
}
