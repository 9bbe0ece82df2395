import type { MeterProvider } from '@opentelemetry/api';
import type { Clock } from '../core/clock.ts';
import { readAtCollection } from '../telemetry/collected.ts';
import { INSTRUMENT_SPECS } from '../telemetry/instruments.ts';
import { tierLabel } from '../telemetry/labels.ts';
import { ATTR_TIER } from '../telemetry/semconv.ts';

interface Level {
  spent: number;
  budget: number;
  periodEndMs: number;
}

/** Tenants remembered per tier: the gauge is a maximum over them, so memory stays bounded. */
const TENANTS_PER_TIER = 1000;

/**
 * `alchemist.budget.utilization` per tier: the highest spent/budget of any tenant of the tier this
 * process has seen this period (spend as Redis reports it, so other instances' charges count), read
 * at collection time so a new period shows 0 without traffic. One series per budgeted tier, never a
 * tenant label; across instances, `max by (alchemist_tier)` is the tier's truth.
 */
export class UtilizationGauge {
  readonly #byTier = new Map<string, Map<string, Level>>();
  readonly #clock: Clock;

  constructor(clock: Clock, tiers: Iterable<string>, meterProvider: MeterProvider | undefined) {
    this.#clock = clock;
    for (const tier of tiers) this.#byTier.set(tier, new Map());
    readAtCollection(INSTRUMENT_SPECS.budgetUtilization.name, meterProvider, (observe) => {
      for (const tier of this.#byTier.keys()) observe(this.value(tier), { [ATTR_TIER]: tierLabel.get(tier) });
      return true;
    });
  }

  update(tier: string, tenant: string, level: Level): void {
    let tenants = this.#byTier.get(tier);
    if (!tenants) {
      // A tier seen only through a tenant's own budget; tier labels are bounded by tierLabel.
      tenants = new Map();
      this.#byTier.set(tier, tenants);
    }
    tenants.delete(tenant);
    tenants.set(tenant, level);
    if (tenants.size > TENANTS_PER_TIER) tenants.delete(tenants.keys().next().value as string);
  }

  value(tier: string): number {
    const now = this.#clock.now();
    let highest = 0;
    for (const [tenant, level] of this.#byTier.get(tier) ?? []) {
      if (level.periodEndMs <= now) {
        this.#byTier.get(tier)?.delete(tenant);
        continue;
      }
      // A budget of 0 is used up from the start.
      highest = Math.max(highest, level.budget > 0 ? level.spent / level.budget : 1);
    }
    return highest;
  }
}
