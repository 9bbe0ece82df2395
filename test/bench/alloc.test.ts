import { describe, expect, it } from 'vitest';
import { type AllocResult, parseAllocArgs } from '../../bench/alloc-args.ts';
import { ALLOC_RUNS, allocRatios } from '../../bench/scenarios/alloc.ts';

describe('bench/alloc.ts options', () => {
  it('defaults to the pack on the hit path, as before --system existed', () => {
    expect(parseAllocArgs([])).toEqual({
      path: 'hit',
      system: 'pack',
      seconds: 3,
      warmupSeconds: 2,
      top: 25,
      telemetry: true,
      json: false,
    });
  });

  it('reads --path, --system, --telemetry off and --json', () => {
    expect(
      parseAllocArgs([
        '--path',
        'miss',
        '--system',
        'bare',
        '--seconds',
        '1.5',
        '--telemetry',
        'off',
        '--json',
      ]),
    ).toMatchObject({ path: 'miss', system: 'bare', seconds: 1.5, telemetry: false, json: true });
  });

  it('names a bad value or an unknown option', () => {
    expect(() => parseAllocArgs(['--system', 'portkey'])).toThrow(
      '--system must be one of pack, bare (got "portkey")',
    );
    expect(() => parseAllocArgs(['--path', 'stream'])).toThrow('--path must be one of hit, miss');
    expect(() => parseAllocArgs(['--seconds', '0'])).toThrow('--seconds must be a number >= 0.1 (got 0)');
    expect(() => parseAllocArgs(['--fast'])).toThrow(/--fast/);
  });
});

describe('the alloc scenario', () => {
  it('measures both systems on both paths', () => {
    expect(ALLOC_RUNS).toEqual([
      { path: 'miss', system: 'pack' },
      { path: 'miss', system: 'bare' },
      { path: 'hit', system: 'pack' },
      { path: 'hit', system: 'bare' },
    ]);
  });

  it('reports pack / bare per path against the issue 14 target of 2x, and KB per request', () => {
    const result = (path: AllocResult['path'], system: AllocResult['system'], kb: number): AllocResult => ({
      path,
      system,
      telemetry: true,
      requests: 1000,
      errors: 0,
      bytesPerRequest: kb * 1024,
      areas: [],
    });
    const ratios = allocRatios([
      result('miss', 'pack', 150),
      result('miss', 'bare', 50),
      result('hit', 'pack', 38),
      result('hit', 'bare', 20),
    ]);
    expect(ratios.map((r) => [r.id, r.value, r.pass])).toEqual([
      ['miss-vs-bare', 3, false],
      ['miss-pack-kb', 150, undefined],
      ['miss-bare-kb', 50, undefined],
      ['hit-vs-bare', 1.9, true],
      ['hit-pack-kb', 38, undefined],
      ['hit-bare-kb', 20, undefined],
    ]);
    expect(ratios.find((r) => r.id === 'hit-vs-bare')?.target).toEqual({ op: '<=', value: 2 });
    expect(ratios.find((r) => r.id === 'miss-bare-kb')?.gate).toBe(false);
    expect(() => allocRatios([result('miss', 'pack', 1)])).toThrow(
      'no allocation result for bare on the miss path',
    );
  });
});
