import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/gateway/config/index.ts';
import { readiness } from '../../src/gateway/health.ts';
import { createGatewayPolicies } from '../../src/gateway/policies.ts';
import { createProviderRegistry } from '../../src/gateway/providers/registry.ts';

function problems(text: string): string[] {
  try {
    parseConfig(text, {});
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('budget config', () => {
  it('reads tier budgets, a key override and the alert threshold', () => {
    const config = parseConfig(
      `
[rate_limit]
budget_alert_at = 0.9
[tiers.free]
requests_per_minute = 10
budget_usd = 5
budget_period = "day"
[tiers.pro]
budget_usd = 500
[[api_keys]]
key = "sk-budget-free-1"
tenant = "team-a"
tier = "free"
budget_usd = 20
[ai_models.gpt-4o-mini]
rate_limit = 100
`,
      {},
    );
    expect(config.tiers.free).toEqual({ requestsPerMinute: 10, budgetUsd: 5, budgetPeriod: 'day' });
    expect(config.tiers.pro).toEqual({ budgetUsd: 500 });
    expect(config.apiKeys[0]).toMatchObject({ tenant: 'team-a', tier: 'free', budgetUsd: 20 });
    expect(config.budgets).toEqual({ enabled: true, alertAt: 0.9 });
  });

  it('is off without any budget_usd', () => {
    expect(parseConfig('[tiers.free]\nrequests_per_minute = 10\n', {}).budgets).toEqual({
      enabled: false,
      alertAt: 0.8,
    });
  });

  it('fails at start naming the key: an unpriced model with budgets on, bad values, disagreeing keys', () => {
    expect(
      problems(`
[tiers.free]
budget_usd = 5
[ai_models.my-local-llama]
rate_limit = 10
[ai_models.gpt-4o]
fallbacks = ["house-model"]
`),
    ).toEqual([
      'config error: ai_models.my-local-llama: no price is known for this model and budgets are on (tiers.free.budget_usd): expected ai_models.my-local-llama.input_price and output_price (USD per million tokens)',
      'config error: ai_models.house-model: no price is known for this model and budgets are on (tiers.free.budget_usd): expected ai_models.house-model.input_price and output_price (USD per million tokens)',
    ]);
    const bad = problems(`
[rate_limit]
budget_alert_at = 1.5
[tiers.free]
budget_usd = -1
budget_period = "week"
[tiers.pro]
budget_period = "day"
`);
    expect(bad.join('\n')).toContain('rate_limit.budget_alert_at = 1.5: expected a number between 0 and 1');
    expect(bad.join('\n')).toContain('tiers.free.budget_usd = -1: expected a number >= 0');
    expect(bad.join('\n')).toContain('tiers.free.budget_period = "week": expected "day" or "month"');
    expect(
      problems(`
[tiers.free]
budget_period = "day"
`),
    ).toEqual(['config error: tiers.free.budget_period = "day": expected tiers.free.budget_usd beside it']);
    expect(
      problems(`
[tiers.free]
[[api_keys]]
key = "sk-budget-one-1"
tenant = "team-a"
tier = "free"
budget_usd = 10
[[api_keys]]
key = "sk-budget-two-2"
tenant = "team-a"
tier = "free"
budget_usd = 20
`),
    ).toEqual([
      'config error: api_keys[1].budget_usd = 20: tenant "team-a" already has budget_usd = 10 at api_keys[0]; expected the same budget on every key of a tenant',
    ]);
  });

  it('a configured price or the built-in table satisfies the check', () => {
    const config = parseConfig(
      `
[tiers.free]
budget_usd = 5
[ai_models.my-local-llama]
input_price = 0.1
output_price = 0.2
[ai_models.gpt-4o-mini]
rate_limit = 10
`,
      {},
    );
    expect(config.budgets.enabled).toBe(true);
  });

  it('/readyz reports the budgets mode only when budgets are on', async () => {
    const config = parseConfig('[tiers.free]\nbudget_usd = 5\n', {});
    const policies = createGatewayPolicies(config, createProviderRegistry(config));
    const sources = { phase: () => 'ready' as const, policies, simulatorUrl: undefined, cacheEnabled: true };
    expect(readiness({ ...sources, budgetsEnabled: true }).body).toMatchObject({
      budgets: { mode: 'local', degraded: false },
    });
    expect(readiness(sources).body).not.toHaveProperty('budgets');
    expect(policies.limitsTokens).toBe(true);
    await policies.close();
  });
});
