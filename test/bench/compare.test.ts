import { describe, expect, it } from 'vitest';
import { compareRuns, formatComparison } from '../../bench/compare.ts';
import type { BenchRun, Ratio } from '../../bench/types.ts';

function run(ratios: Ratio[], commit = 'abc'): BenchRun {
  return {
    schema: 1,
    startedAt: '2026-11-27T00:00:00.000Z',
    durationSec: 1,
    mode: 'quick',
    command: 'npm run bench',
    gitCommit: commit,
    machine: {
      nproc: 2,
      cpuModel: 'test',
      node: 'v24',
      platform: 'linux-x64',
      totalMemoryGb: 1,
      loadAverage: [0],
    },
    scenarios: [{ id: 's', title: 'S', workload: '', systems: [], ratios, notes: [] }],
  };
}

const higher = (value: number, extra: Partial<Ratio> = {}): Ratio => ({
  id: 'thr',
  label: 'throughput',
  value,
  better: 'higher',
  ...extra,
});

describe('compareRuns', () => {
  it('treats a change within the threshold as noise', () => {
    const [change] = compareRuns(run([higher(2)]), run([higher(1.8)]), { threshold: 0.15 });
    expect(change?.status).toBe('ok');
    expect(change?.change).toBeCloseTo(-0.1);
  });

  it('flags a drop beyond the threshold in the worse direction, and a rise as better', () => {
    expect(compareRuns(run([higher(2)]), run([higher(1.4)]))[0]?.status).toBe('regression');
    expect(compareRuns(run([higher(2)]), run([higher(2.6)]))[0]?.status).toBe('better');
  });

  it('reads the direction from the figure: for lower-is-better a rise is the regression', () => {
    const lower = (value: number): Ratio => ({ id: 'cpu', label: 'cpu', value, better: 'lower' });
    expect(compareRuns(run([lower(1)]), run([lower(1.3)]))[0]?.status).toBe('regression');
    expect(compareRuns(run([lower(1)]), run([lower(0.7)]))[0]?.status).toBe('better');
  });

  it('applies a noise floor per unit, so 1 ms of jitter on a 1 ms overhead is not a regression', () => {
    const ms = (value: number): Ratio => ({ id: 'ttfc', label: 'ttfc', value, better: 'lower', unit: 'ms' });
    expect(compareRuns(run([ms(1)]), run([ms(1.2)]))[0]?.status).toBe('ok');
    expect(compareRuns(run([ms(1)]), run([ms(4)]))[0]?.status).toBe('regression');
  });

  it('reports a target that passed on base and fails on head, even inside the noise threshold', () => {
    const target = { op: '>=' as const, value: 0.5 };
    const [change] = compareRuns(
      run([higher(0.52, { target, pass: true })]),
      run([higher(0.49, { target, pass: false })]),
    );
    expect(change?.status).toBe('target-lost');
  });

  it('shows but never gates a figure marked informational (it describes a baseline)', () => {
    const [change] = compareRuns(run([higher(2, { gate: false })]), run([higher(0.5, { gate: false })]));
    expect(change?.status).toBe('info');
  });

  it('lists figures only one side has', () => {
    const statuses = compareRuns(run([higher(1)]), run([{ ...higher(1), id: 'other' }])).map((c) => c.status);
    expect(statuses.sort()).toEqual(['gone', 'new']);
  });

  it('renders a Markdown table with both commits and the verdict', () => {
    const base = run([higher(2)], 'base1234ff');
    const head = run([higher(1)], 'head5678ff');
    const text = formatComparison(base, head, compareRuns(base, head), 0.15);
    expect(text).toContain('1 regression(s)');
    expect(text).toContain('base1234');
    expect(text).toContain('| s | throughput | 2.000 | 1.000 | -50.0% | **REGRESSION** |');
  });
});
