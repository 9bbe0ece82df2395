import { describe, expect, it } from 'vitest';
import { mixedPrompts, skewedPrompts, uniform, uniquePrompts } from '../../bench/workload.ts';

describe('bench workloads', () => {
  it('are a pure function of the sequence number, so compared systems get the same prompts', () => {
    const a = skewedPrompts({ distinct: 100, exponent: 1.1, seed: 8, tag: 't' });
    const b = skewedPrompts({ distinct: 100, exponent: 1.1, seed: 8, tag: 't' });
    for (let i = 0; i < 500; i++) expect(a(i)).toBe(b(i));
  });

  it('skews like Zipf: the top prompt is asked far more often than the median one', () => {
    const next = skewedPrompts({ distinct: 100, exponent: 1.1, seed: 8, tag: 't' });
    const counts = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) counts.set(next(i), (counts.get(next(i)) ?? 0) + 1);
    const sorted = [...counts.values()].sort((x, y) => y - x);
    // P(rank 1) / P(rank 50) = 50^1.1 ≈ 74 for Zipf(1.1).
    expect(sorted[0]! / sorted[49]!).toBeGreaterThan(20);
    expect(counts.size).toBeGreaterThan(80);
  });

  it('uniform() stays in [0, 1)', () => {
    for (let i = 0; i < 10_000; i++) {
      const u = uniform(i * 7919);
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
    }
  });

  it('unique prompts never repeat and are valid chat requests', () => {
    const next = uniquePrompts('u', { stream: true });
    const seen = new Set(Array.from({ length: 1000 }, (_, i) => next(i)));
    expect(seen.size).toBe(1000);
    const body = JSON.parse(next(0)) as { model: string; stream: boolean; messages: unknown[] };
    expect(body.model).toBeTypeOf('string');
    expect(body.stream).toBe(true);
    expect(body.messages).toHaveLength(2);
  });

  it('mixed prompts ask stored questions at about the requested share', () => {
    const next = mixedPrompts('m', 1000, 0.9);
    let stored = 0;
    for (let i = 0; i < 10_000; i++) if (!next(i).includes('-new]')) stored++;
    expect(stored / 10_000).toBeGreaterThan(0.87);
    expect(stored / 10_000).toBeLessThan(0.93);
  });
});
