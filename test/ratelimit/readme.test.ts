import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section =
  readme.split('<!-- section:ratelimit (owner: ratelimit) -->')[1]?.split('<!-- /section:ratelimit -->')[0] ??
  '';

describe('README rate limiting section', () => {
  it('shows the example that test/ratelimit/readme-example.ts type-checks', () => {
    const example = readFileSync(new URL('./readme-example.ts', import.meta.url), 'utf8')
      .replaceAll("'../../src/index.ts'", "'alchemist-perf'")
      .replaceAll("'../../src/hono/index.ts'", "'alchemist-perf/hono'")
      .replace(/\n\ndeclare function[\s\S]*?;\n/, '\n')
      .replace(/\nexport \{[^}]*\};\n$/, '\n')
      .trim();
    const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1]?.trim();
    expect(block).toBe(example);
  });

  it('documents every option of TierRateLimitOptions and ModelRateLimitOptions', () => {
    for (const [file, name] of [
      ['tier-options.ts', 'TierRateLimitOptions'],
      ['model-policy.ts', 'ModelRateLimitOptions'],
    ] as const) {
      const source = readFileSync(new URL(`../../src/ratelimit/${file}`, import.meta.url), 'utf8');
      const body = source.split(`export interface ${name} {`)[1]?.split('\n}')[0] ?? '';
      const options = [...body.matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1]);
      expect(options.length).toBeGreaterThan(5);
      for (const option of options) expect(section, `${name}.${option}`).toContain(`\`${option}\``);
    }
  });
});
