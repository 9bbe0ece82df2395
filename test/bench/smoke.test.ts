import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchRun } from '../../bench/types.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'alchemist-bench-'));
const bench = (args: string[]) =>
  run(process.execPath, ['bench/main.ts', ...args], { cwd: process.cwd(), timeout: 120_000 });

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run bench (smoke, --quick: asserts the output shape, not speed)', () => {
  it('lists the seven scenarios of issue 8', async () => {
    const { stdout } = await bench(['--list']);
    const ids = stdout
      .trim()
      .split('\n')
      .map((line) => line.split(/\s+/)[0]);
    expect(ids).toEqual([
      'standard-vs-enhanced',
      'miss-overhead',
      'hit-path',
      'telemetry',
      'redis',
      'connections',
      'streaming',
    ]);
  });

  it('rejects an unknown option or scenario, naming it', async () => {
    await expect(bench(['--fast'])).rejects.toMatchObject({ stderr: expect.stringContaining('"--fast"') });
    await expect(bench(['--scenario', 'nope'])).rejects.toMatchObject({
      stderr: expect.stringContaining('nope'),
    });
  });

  it('runs one scenario in separate processes and writes the JSON and Markdown results', async () => {
    const out = join(dir, 'run.json');
    const { stdout } = await bench([
      '--quick',
      '--scenario',
      'hit-path',
      '--no-micro',
      '--quiet',
      '--out',
      out,
    ]);
    expect(stdout).toContain('cache-hit path vs bare fixed-response handler');
    expect(stdout).toContain('CPU µs/req');

    const result = JSON.parse(readFileSync(out, 'utf8')) as BenchRun;
    expect(result.schema).toBe(1);
    expect(result.mode).toBe('quick');
    expect(result.machine.nproc).toBeGreaterThan(0);
    expect(result.machine.node).toBe(process.version);
    expect(result.scenarios).toHaveLength(1);
    const [scenario] = result.scenarios;
    expect(scenario?.skipped).toBeUndefined();
    expect(scenario?.systems.map((s) => s.name)).toEqual(['bare-fixed', 'pack-hit', 'cache-mw-hit']);
    for (const system of scenario?.systems ?? []) {
      expect(system.requests).toBeGreaterThan(0);
      expect(system.errors).toBe(0);
      expect(system.throughput).toBeGreaterThan(0);
      expect(system.cpuPerRequestUs).toBeGreaterThan(0);
      expect(system.rssMb).toBeGreaterThan(system.idleRssMb * 0.5);
      expect(system.latencyMs.p99).toBeGreaterThanOrEqual(system.latencyMs.p50);
    }
    // Every request after the first is the stored answer.
    expect(scenario?.systems[1]?.hitRate).toBe(1);
    expect(scenario?.systems[2]?.hitRate).toBe(1);
    const target = scenario?.ratios.find((r) => r.id === 'throughput');
    expect(target?.target).toEqual({ op: '>=', value: 0.5 });
    expect(typeof target?.pass).toBe('boolean');
    expect(existsSync(join(dir, 'run.md'))).toBe(true);
  });
});
