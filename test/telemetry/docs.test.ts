import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { INSTRUMENT_SPECS } from '../../src/telemetry/instruments.ts';
import { PACKAGE_NAME, PACKAGE_VERSION } from '../../src/telemetry/version.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

/** Rows of the README table between `<!-- metrics:start -->` and `<!-- metrics:end -->`. */
function readmeMetricRows(): { name: string; kind: string; unit: string }[] {
  const section = readme.split('<!-- metrics:start -->')[1]?.split('<!-- metrics:end -->')[0] ?? '';
  return section
    .split('\n')
    .filter((line) => /^\|\s*`/.test(line))
    .map((line) => {
      const cells = line.split('|').map((cell) => cell.trim());
      return { name: cells[1]!.replace(/`/g, ''), kind: cells[2]!, unit: cells[3]!.replace(/`/g, '') };
    });
}

describe('docs stay true', () => {
  it('README metric table lists exactly the instruments the code creates, with kind and unit', () => {
    const rows = readmeMetricRows();
    const documented = rows.map((row) => row.name).sort();
    const created = Object.values(INSTRUMENT_SPECS)
      .map((spec) => spec.name)
      .sort();
    expect(documented).toEqual(created);
    for (const spec of Object.values(INSTRUMENT_SPECS)) {
      const row = rows.find((r) => r.name === spec.name)!;
      expect(row.kind, spec.name).toBe(spec.kind);
      expect(row.unit, spec.name).toBe(spec.unit);
    }
  });

  it('instrumentation scope is the package name and version', () => {
    expect(PACKAGE_NAME).toBe(pkg.name);
    expect(PACKAGE_VERSION).toBe(pkg.version);
  });
});
