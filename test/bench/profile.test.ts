import { describe, expect, it } from 'vitest';
import { areaOf, callers, summarise } from '../../bench/profile.ts';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

// root → handler (src/cache) → JSON.stringify-like node internal → writeUtf8String; plus idle.
const profile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 5] },
    { id: 2, callFrame: frame('aiCache', 'file:///repo/src/cache/policy.ts', 9), children: [3] },
    { id: 3, callFrame: frame('write', 'node:internal/streams/writable', 1), children: [4] },
    { id: 4, callFrame: frame('writeUtf8String') },
    { id: 5, callFrame: frame('(idle)') },
  ],
  samples: [2, 3, 4, 4, 5, 5, 5, 5],
  timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
};

describe('bench/profile.ts', () => {
  it('leaves idle samples out of the shares', () => {
    const { totalMs, byFunction } = summarise(profile);
    expect(totalMs).toBe(4);
    expect(byFunction[0]).toMatchObject({ name: 'writeUtf8String', share: 0.5 });
  });

  it('groups by area and charges Node internals to the project code that called them', () => {
    const { byArea, byCaller } = summarise(profile);
    expect(byArea.map((a) => [a.where, a.share])).toEqual([
      ['socket writes (native)', 0.5],
      ['src/cache', 0.25],
      ['node internals', 0.25],
    ]);
    expect(byCaller).toEqual([expect.objectContaining({ where: 'src/cache', share: 1 })]);
  });

  it('names the callers of a native function', () => {
    const [top] = callers(profile, 'writeUtf8String', 2);
    expect(top?.where).toBe('write node:internal/streams/writable:2 < aiCache src/cache/policy.ts:10');
    expect(top?.share).toBe(0.5);
  });

  it('maps files to areas', () => {
    expect(areaOf('file:///x/node_modules/@opentelemetry/sdk-trace/dist/Span.mjs', 'end')).toBe(
      '@opentelemetry/*',
    );
    expect(areaOf('file:///x/node_modules/@hono/node-server/dist/index.mjs', 'f')).toBe('@hono/node-server');
    expect(areaOf('file:///x/node_modules/hono/dist/request.js', 'f')).toBe('hono');
    expect(areaOf('', '(garbage collector)')).toBe('(garbage collector) (native)');
  });
});
