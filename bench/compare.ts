/**
 * Compare two bench runs (base and head JSON from `npm run bench`) figure by figure, and fail on a
 * regression beyond a noise threshold. Only the same-run ratios are compared: absolute req/s from two
 * CI jobs differ with the runner, a ratio of two systems measured side by side much less.
 *
 * Usage: node bench/compare.ts base.json head.json [--threshold 0.25] [--markdown out.md]
 * Exit code: 0 no regression, 1 regression, 2 bad input.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { BenchRun, Ratio } from './types.ts';

export interface CompareOptions {
  /** Relative change (in the worse direction) tolerated as noise. @default 0.25 */
  readonly threshold?: number;
}

export interface FigureChange {
  readonly scenario: string;
  readonly id: string;
  readonly label: string;
  readonly base: number;
  readonly head: number;
  /** Signed change relative to the base, positive = better. */
  readonly change: number;
  readonly status: 'ok' | 'better' | 'regression' | 'target-lost' | 'info' | 'new' | 'gone';
}

/** Changes smaller than this (in the figure's own unit) are noise whatever the relative change says. */
const NOISE_FLOOR: Record<NonNullable<Ratio['unit']>, number> = {
  ratio: 0.25,
  share: 0.1,
  ms: 2,
  MB: 20,
  KB: 4,
};

/** Every figure of `head` against `base`, with a status. */
export function compareRuns(base: BenchRun, head: BenchRun, options: CompareOptions = {}): FigureChange[] {
  const threshold = options.threshold ?? 0.25;
  const changes: FigureChange[] = [];
  const baseRatios = new Map<string, Ratio>();
  for (const s of base.scenarios) for (const r of s.ratios) baseRatios.set(`${s.id}/${r.id}`, r);
  const seen = new Set<string>();
  for (const s of head.scenarios) {
    for (const r of s.ratios) {
      const key = `${s.id}/${r.id}`;
      seen.add(key);
      const b = baseRatios.get(key);
      if (!b) {
        changes.push({
          scenario: s.id,
          id: r.id,
          label: r.label,
          base: Number.NaN,
          head: r.value,
          change: 0,
          status: 'new',
        });
        continue;
      }
      const scale = Math.max(Math.abs(b.value), NOISE_FLOOR[r.unit ?? 'ratio']);
      const signed = ((r.value - b.value) / scale) * (r.better === 'higher' ? 1 : -1);
      const status: FigureChange['status'] =
        r.gate === false
          ? 'info'
          : b.pass === true && r.pass === false
            ? 'target-lost'
            : signed < -threshold
              ? 'regression'
              : signed > threshold
                ? 'better'
                : 'ok';
      changes.push({
        scenario: s.id,
        id: r.id,
        label: r.label,
        base: b.value,
        head: r.value,
        change: signed,
        status,
      });
    }
  }
  for (const [key, b] of baseRatios) {
    if (seen.has(key)) continue;
    const [scenario = '', id = ''] = key.split('/');
    changes.push({
      scenario,
      id,
      label: b.label,
      base: b.value,
      head: Number.NaN,
      change: 0,
      status: 'gone',
    });
  }
  return changes;
}

const ICON: Record<FigureChange['status'], string> = {
  ok: 'ok',
  better: 'better',
  regression: '**REGRESSION**',
  'target-lost': '**TARGET LOST**',
  info: 'info (not gated)',
  new: 'new',
  gone: 'gone',
};

function num(value: number): string {
  return Number.isNaN(value) ? '–' : value.toFixed(3);
}

/** A Markdown report for a PR comment. */
export function formatComparison(
  base: BenchRun,
  head: BenchRun,
  changes: readonly FigureChange[],
  threshold: number,
): string {
  const bad = changes.filter((c) => c.status === 'regression' || c.status === 'target-lost');
  const skipped = head.scenarios
    .filter((s) => s.skipped)
    .map((s) => `- ${s.id} did not run on head: ${s.skipped}`);
  return [
    `### Benchmark: ${bad.length ? `${bad.length} regression(s)` : 'no regression'} (noise threshold ${Math.round(threshold * 100)}%)`,
    '',
    `base ${base.gitCommit?.slice(0, 8) ?? '?'} (${base.mode}), head ${head.gitCommit?.slice(0, 8) ?? '?'} (${head.mode}); ` +
      `${head.machine.nproc} CPUs, ${head.machine.cpuModel}, Node ${head.machine.node}. Ratios are measured within each run.`,
    '',
    '| scenario | figure | base | head | change | status |',
    '|---|---|---:|---:|---:|---|',
    ...changes.map(
      (c) =>
        `| ${c.scenario} | ${c.label} | ${num(c.base)} | ${num(c.head)} | ${c.status === 'new' || c.status === 'gone' ? '' : `${c.change >= 0 ? '+' : ''}${(c.change * 100).toFixed(1)}%`} | ${ICON[c.status]} |`,
    ),
    ...(skipped.length ? ['', ...skipped] : []),
    ...(base.mode === head.mode
      ? []
      : ['', `Warning: base ran in ${base.mode} mode and head in ${head.mode} mode; their noise differs.`]),
    '',
    '_change is signed so that + is better; regressions are worse than the threshold after a per-unit noise floor._',
  ].join('\n');
}

function read(file: string): BenchRun {
  const run = JSON.parse(readFileSync(file, 'utf8')) as BenchRun;
  if (run.schema !== 1 || !Array.isArray(run.scenarios))
    throw new Error(`${file}: not a bench result (schema 1)`);
  return run;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const files: string[] = [];
  let threshold = 0.25;
  let markdown: string | undefined;
  try {
    for (let i = 0; i < args.length; i++) {
      const arg = args[i] as string;
      if (arg === '--threshold') {
        threshold = Number(args[++i]);
        if (!(threshold > 0 && threshold < 10))
          throw new Error(`--threshold ${args[i]}: expected a number > 0, e.g. 0.25`);
      } else if (arg === '--markdown') markdown = args[++i];
      else files.push(arg);
    }
    if (files.length !== 2)
      throw new Error(
        'usage: node bench/compare.ts base.json head.json [--threshold 0.25] [--markdown out.md]',
      );
    const base = read(files[0] as string);
    const head = read(files[1] as string);
    const changes = compareRuns(base, head, { threshold });
    const text = formatComparison(base, head, changes, threshold);
    process.stdout.write(`${text}\n`);
    if (markdown) writeFileSync(markdown, `${text}\n`);
    process.exit(changes.some((c) => c.status === 'regression' || c.status === 'target-lost') ? 1 : 0);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
}
