import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/gateway/config/index.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section =
  readme.split('<!-- section:budget (owner: budget) -->')[1]?.split('<!-- /section:budget -->')[0] ?? '';

describe('README budgets section', () => {
  it('shows the example that test/budget/readme-example.ts type-checks', () => {
    const example = readFileSync(new URL('./readme-example.ts', import.meta.url), 'utf8')
      .replaceAll("'../../src/index.ts'", "'alchemist-perf'")
      .replaceAll("'../../src/hono/index.ts'", "'alchemist-perf/hono'")
      .replace(/\n\ndeclare function[\s\S]*?;\n/, '\n')
      .replace(/\nexport \{[^}]*\};\n$/, '\n')
      .trim();
    const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1]?.trim();
    expect(block).toBe(example);
  });

  it('its TOML loads as the gateway config, budgets on', () => {
    const toml = /```toml\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    const config = parseConfig(toml, {});
    expect(config.budgets).toEqual({ enabled: true, alertAt: 0.8 });
    expect(config.tiers.free).toMatchObject({ budgetUsd: 1, budgetPeriod: 'day' });
    expect(config.apiKeys[0]).toMatchObject({ tenant: 'team-research', budgetUsd: 20 });
  });

  it('documents every option of BudgetOptions', () => {
    const source = readFileSync(new URL('../../src/budget/options.ts', import.meta.url), 'utf8');
    const body = source.split('export interface BudgetOptions {')[1]?.split('\n}')[0] ?? '';
    const options = [...body.matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1]);
    expect(options.length).toBeGreaterThan(5);
    for (const option of options) expect(section, option).toContain(`\`${option}\``);
  });
});
