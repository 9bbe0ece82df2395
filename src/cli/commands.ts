import { writeFileSync } from 'node:fs';
import type { AdminClientOptions } from './client.ts';
import { adminRequest, CliError } from './client.ts';
import { formatBudgets, formatStats } from './format.ts';

export interface StatsOptions extends AdminClientOptions {
  json: boolean;
  /** Seconds between refreshes; undefined = print once. */
  watch: number | undefined;
  write: (text: string) => void;
  /** Stops `--watch` (tests); SIGINT otherwise. */
  signal?: AbortSignal;
}

/** `alchemist-perf stats`: the admin summary as a table, or JSON; `--watch` refreshes it. */
export async function statsCommand(options: StatsOptions): Promise<void> {
  const render = async () => {
    const stats = await adminRequest(options, 'GET', '/admin/stats');
    return options.json ? JSON.stringify(stats, null, 2) : formatStats(stats, options.url);
  };
  if (options.watch === undefined) {
    options.write(`${await render()}\n`);
    return;
  }
  const clear = process.stdout.isTTY ? '\x1b[2J\x1b[H' : '';
  while (!options.signal?.aborted) {
    const text = await render();
    options.write(`${clear}${text}\n${clear ? '' : '\n'}`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.watch! * 1000);
      options.signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** `alchemist-perf clear-cache [--tenant t]`. */
export async function clearCacheCommand(
  options: AdminClientOptions & { tenant: string | undefined; write: (text: string) => void },
) {
  const result = (await adminRequest(
    options,
    'POST',
    '/admin/cache/clear',
    options.tenant ? { tenant: options.tenant } : {},
  )) as {
    cleared?: string;
    tenant?: string;
    removed?: number;
    layers?: Record<string, number>;
  };
  const what = result.cleared === 'tenant' ? `the cache of tenant ${result.tenant}` : 'the whole cache';
  const layers = Object.entries(result.layers ?? {})
    .map(([layer, count]) => `${layer} ${count}`)
    .join(', ');
  const removed = result.removed ?? 0;
  options.write(
    `cleared ${what}: ${removed} ${removed === 1 ? 'entry' : 'entries'} removed${layers ? ` (${layers})` : ''}\n`,
  );
}

/** `alchemist-perf export [--out file]`: the JSON summary to stdout or a file. */
export async function exportCommand(
  options: AdminClientOptions & { out: string | undefined; write: (text: string) => void },
) {
  const exported = await adminRequest(options, 'GET', '/admin/export');
  const text = `${JSON.stringify(exported, null, 2)}\n`;
  if (!options.out) {
    options.write(text);
    return;
  }
  try {
    writeFileSync(options.out, text);
  } catch (error) {
    throw new CliError(`cannot write ${options.out}: ${(error as Error).message}`);
  }
  options.write(`exported to ${options.out}\n`);
}

/** `alchemist-perf budgets [--json]`: spend per tenant against its budget this period. */
export async function budgetsCommand(
  options: AdminClientOptions & { json: boolean; write: (text: string) => void },
) {
  const budgets = await adminRequest(options, 'GET', '/admin/budgets');
  options.write(`${options.json ? JSON.stringify(budgets, null, 2) : formatBudgets(budgets, options.url)}\n`);
}
