/**
 * Dashboards as code: `node grafana/src/build.ts` writes grafana/dashboards/*.json, the files Grafana
 * provisions. The JSON stays committed and reviewable; test/observability/static.test.ts fails when it
 * differs from what this generator produces.
 */
import { writeFileSync } from 'node:fs';
import type { Dashboard } from './dashboard.ts';
import { cache } from './dashboards/cache.ts';
import { models } from './dashboards/models.ts';
import { overview } from './dashboards/overview.ts';
import { ratelimits } from './dashboards/ratelimits.ts';
import { system } from './dashboards/system.ts';

/** File name (under grafana/dashboards/) → dashboard. */
export function buildDashboards(): Record<string, Dashboard> {
  return {
    'overview.json': overview(),
    'cache.json': cache(),
    'ratelimits.json': ratelimits(),
    'models.json': models(),
    'system.json': system(),
  };
}

/** The exact file content for a dashboard (stable key order, two-space indent, final newline). */
export function serialize(dashboard: Dashboard): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}

if (import.meta.main) {
  const dir = new URL('../dashboards/', import.meta.url);
  for (const [file, dashboard] of Object.entries(buildDashboards())) {
    writeFileSync(new URL(file, dir), serialize(dashboard));
    console.log(`wrote grafana/dashboards/${file}`);
  }
}
