import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section =
  readme.split('<!-- section:cache (owner: cache) -->')[1]?.split('<!-- /section:cache -->')[0] ?? '';

describe('README cache section', () => {
  it('shows the example that test/cache/readme-example.ts type-checks', () => {
    const example = readFileSync(new URL('./readme-example.ts', import.meta.url), 'utf8')
      .replaceAll("'../../src/index.ts'", "'alchemist-perf'")
      .replaceAll("'../../src/hono/index.ts'", "'alchemist-perf/hono'")
      .replace(/\n\ndeclare function[^\n]*\n/, '\n')
      .replace(/\nexport \{[^}]*\};\n$/, '\n')
      .trim();
    const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1]?.trim();
    expect(block).toBe(example);
  });

  it('documents every option of AiCacheOptions', () => {
    const source = readFileSync(new URL('../../src/cache/options.ts', import.meta.url), 'utf8');
    const body = source.split('export interface AiCacheOptions {')[1]?.split('\n}')[0] ?? '';
    const options = [...body.matchAll(/^ {2}(\w+)\?:/gm)].map((m) => m[1]);
    expect(options.length).toBeGreaterThan(10);
    for (const option of options) expect(section, option).toContain(`\`${option}\``);
  });
});
