import type { BenchRun, Ratio, ScenarioResult, SystemResult } from './types.ts';

function fmt(value: number, digits = 1): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  right: readonly boolean[],
): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => (right[c] ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function systemRow(s: SystemResult): string[] {
  return [
    s.name,
    fmt(s.throughput, 0),
    fmt(s.latencyMs.p50, 2),
    fmt(s.latencyMs.p95, 2),
    fmt(s.latencyMs.p99, 2),
    s.ttfcMs ? fmt(s.ttfcMs.p50, 2) : '',
    fmt(s.cpuPerRequestUs, 0),
    `${fmt(s.rssMb, 0)} (${fmt(s.idleRssMb, 0)})`,
    fmt(s.heapUsedMb, 0),
    s.hitRate === undefined ? '' : `${fmt(s.hitRate * 100, 1)}%`,
    s.errors > 0 ? String(s.errors) : '',
  ];
}

export function verdict(r: Ratio): string {
  if (!r.target) return '';
  return `${r.pass ? 'PASS' : 'MISS'} (target ${r.target.op} ${r.target.value})`;
}

/** A scenario as text: its systems, then its ratios with targets. */
export function formatScenario(result: ScenarioResult): string {
  const head = `## ${result.title}  [${result.id}]`;
  if (result.skipped) return `${head}\nSKIPPED: ${result.skipped}\n`;
  const systems =
    result.systems.length === 0
      ? ''
      : table(
          [
            'system',
            'req/s',
            'p50 ms',
            'p95 ms',
            'p99 ms',
            'TTFC ms',
            'CPU µs/req',
            'RSS MB (idle)',
            'live heap MB',
            'hit rate',
            'errors',
          ],
          result.systems.map(systemRow),
          [false, true, true, true, true, true, true, true, true, true, true],
        );
  const ratios = table(
    ['ratio', 'value', 'target'],
    result.ratios.map((r) => [r.label, fmt(r.value, 3), verdict(r)]),
    [false, true, false],
  );
  const notes = result.notes.map((n) => `- ${n}`).join('\n');
  return `${head}\n${result.workload}\n\n${systems ? `${systems}\n\n` : ''}${ratios}\n${notes ? `\n${notes}\n` : ''}`;
}

interface MicroRow {
  readonly name: string;
  readonly nsPerOp: number;
  readonly opsPerSec?: number;
  readonly concurrency?: number;
}

function isMicroRow(value: unknown): value is MicroRow {
  const row = value as MicroRow | null;
  return typeof row?.name === 'string' && typeof row.nsPerOp === 'number';
}

/** Micro-benchmark results (e.g. `benchRateLimit()`): rows of `{ name, nsPerOp }` as a table. */
export function formatMicro(micro: Readonly<Record<string, unknown>>): string {
  const rows: string[][] = [];
  const other: string[] = [];
  const visit = (path: string, value: unknown) => {
    if (Array.isArray(value) && value.every(isMicroRow)) {
      for (const r of value) {
        rows.push([
          `${path} ${r.name}`,
          fmt(r.nsPerOp, 0),
          r.opsPerSec === undefined ? '' : fmt(r.opsPerSec, 0),
          r.concurrency === undefined ? '' : String(r.concurrency),
        ]);
      }
    } else if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, inner] of Object.entries(value)) visit(path ? `${path}.${key}` : key, inner);
    } else {
      other.push(`${path}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
    }
  };
  visit('', micro);
  const text = rows.length
    ? table(['benchmark', 'ns/op', 'ops/s', 'concurrency'], rows, [false, true, true, true])
    : '';
  return [text, ...other].filter(Boolean).join('\n');
}

/** The whole run as text, for the terminal. */
export function formatRun(run: BenchRun): string {
  const m = run.machine;
  const header =
    `alchemist-perf bench (${run.mode}) — ${run.startedAt}, ${run.durationSec} s\n` +
    `machine: ${m.nproc} CPUs (${m.cpuModel}), ${m.totalMemoryGb} GB, Node ${m.node}, ${m.platform}, load ${m.loadAverage.join(' ')}\n`;
  const targets = run.scenarios.flatMap((s) => s.ratios.filter((r) => r.target).map((r) => ({ s, r })));
  const summary = targets.length
    ? `## Targets\n${table(
        ['scenario', 'figure', 'value', 'verdict'],
        targets.map(({ s, r }) => [s.id, r.label, fmt(r.value, 3), verdict(r)]),
        [false, false, true, false],
      )}\n`
    : '';
  const micro = run.micro ? `## Micro-benchmarks\n${formatMicro(run.micro)}\n` : '';
  return [header, ...run.scenarios.map(formatScenario), summary, micro].filter(Boolean).join('\n');
}

/** The results table for the README: one row per ratio, with targets. */
export function formatMarkdown(run: BenchRun): string {
  const rows = run.scenarios.flatMap((s) =>
    s.skipped
      ? [`| ${s.title} | skipped: ${s.skipped} | | |`]
      : s.ratios.map((r) => `| ${s.title} | ${r.label} | ${fmt(r.value, 3)} | ${verdict(r)} |`),
  );
  return ['| scenario | figure | value | target |', '|---|---|---:|---|', ...rows].join('\n');
}
