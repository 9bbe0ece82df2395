import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../bench/args.ts';
import { formatMarkdown, formatRun, verdict } from '../../bench/report.ts';
import { ratio } from '../../bench/scenario.ts';
import { ALL_SCENARIOS, OPT_IN_SCENARIOS, SCENARIOS, selectScenarios } from '../../bench/scenarios/index.ts';
import type { BenchRun, ScenarioResult } from '../../bench/types.ts';

describe('bench arguments and scenario selection', () => {
  it('keeps a plain run to the default scenarios; --all adds the opt-in alloc and peers', () => {
    expect(OPT_IN_SCENARIOS.map((s) => s.id)).toEqual(['alloc', 'peers']);
    expect(selectScenarios([]).map((s) => s.id)).toEqual(SCENARIOS.map((s) => s.id));
    expect(selectScenarios([]).some((s) => s.id === 'peers')).toBe(false);
    expect(selectScenarios([], true).map((s) => s.id)).toEqual(ALL_SCENARIOS.map((s) => s.id));
    expect(ALL_SCENARIOS).toHaveLength(SCENARIOS.length + 2);
  });

  it('runs a named opt-in scenario alone, in the list order whatever the order asked', () => {
    expect(selectScenarios(['peers']).map((s) => s.id)).toEqual(['peers']);
    expect(selectScenarios(['peers', 'alloc', 'hit-path']).map((s) => s.id)).toEqual([
      'hit-path',
      'alloc',
      'peers',
    ]);
  });

  it('names an unknown scenario and lists the known ones, opt-in included', () => {
    expect(() => selectScenarios(['nope'])).toThrow(/unknown scenario nope; known: .*alloc, peers/);
  });

  it('parses --all and --scenario lists', () => {
    const args = parseArgs(['--quick', '--scenario', 'alloc,peers', '--all']);
    expect(args).toMatchObject({ mode: 'quick', scenarios: ['alloc', 'peers'], all: true, list: false });
    expect(parseArgs([]).all).toBe(false);
    expect(parseArgs(['--scenario=peers']).scenarios).toEqual(['peers']);
    expect(() => parseArgs(['--scenario'])).toThrow('--scenario needs a value');
  });
});

describe('ratios and the Targets table', () => {
  it('rounds and judges a target both ways, at the boundary included', () => {
    expect(ratio('a', 'A', 1.3004, 'lower', { op: '<=', value: 1.3 })).toMatchObject({
      value: 1.3,
      pass: true,
    });
    expect(ratio('a', 'A', 1.31, 'lower', { op: '<=', value: 1.3 }).pass).toBe(false);
    expect(ratio('b', 'B', 3.6, 'higher', { op: '>=', value: 3.6 }).pass).toBe(true);
    expect(ratio('b', 'B', Number.NaN, 'higher', { op: '>=', value: 2 })).toMatchObject({
      value: 0,
      pass: false,
    });
    const kb = ratio('c', 'C', 41.69, 'lower', undefined, 'KB');
    expect(kb).toEqual({ id: 'c', label: 'C', value: 41.69, unit: 'KB', better: 'lower' });
    expect(verdict(kb)).toBe('');
  });

  const scenario = (id: string, extra: Partial<ScenarioResult>): ScenarioResult => ({
    id,
    title: id.toUpperCase(),
    workload: 'w',
    systems: [],
    ratios: [],
    notes: [],
    ...extra,
  });
  const run: BenchRun = {
    schema: 1,
    startedAt: '2026-12-01T00:00:00.000Z',
    durationSec: 1,
    mode: 'quick',
    command: 'npm run bench -- --all',
    machine: {
      nproc: 2,
      cpuModel: 'test',
      node: 'v24',
      platform: 'linux-x64',
      totalMemoryGb: 1,
      loadAverage: [3],
    },
    scenarios: [
      scenario('alloc', {
        ratios: [
          ratio('miss-vs-bare', 'miss: bytes pack / bare', 4.25, 'lower', { op: '<=', value: 2 }),
          ratio('miss-pack-kb', 'miss: KB pack', 227.6, 'lower', undefined, 'KB'),
        ],
      }),
      scenario('peers', { skipped: 'cannot install @portkey-ai/gateway@1.15.2: offline' }),
      scenario('streaming', {
        ratios: [ratio('cpu-vs-proxy', 'CPU/req pack / bare', 1.4, 'lower', { op: '<=', value: 1.5 })],
      }),
    ],
  };

  it('lists every figure with a target, MISS or PASS, and only those', () => {
    const text = formatRun(run);
    const targets = text.slice(text.indexOf('## Targets'));
    expect(targets).toContain('alloc      miss: bytes pack / bare  4.250  MISS (target <= 2)');
    expect(targets).toContain('streaming  CPU/req pack / bare      1.400  PASS (target <= 1.5)');
    expect(targets).not.toContain('KB pack');
  });

  it('says why a scenario was skipped, in the text and the Markdown', () => {
    expect(formatRun(run)).toContain(
      '## PEERS  [peers]\nSKIPPED: cannot install @portkey-ai/gateway@1.15.2: offline',
    );
    expect(formatMarkdown(run)).toContain(
      '| PEERS | skipped: cannot install @portkey-ai/gateway@1.15.2: offline | | |',
    );
  });

  it('prints a scenario without systems (alloc) with no empty systems table', () => {
    const text = formatRun(run);
    const alloc = text.slice(text.indexOf('## ALLOC'), text.indexOf('## PEERS'));
    expect(alloc).not.toContain('req/s');
    expect(alloc).toContain('miss: KB pack            227.600');
  });
});
