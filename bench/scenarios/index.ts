import type { Scenario } from '../scenario.ts';
import { allocation } from './alloc.ts';
import { connections } from './connections.ts';
import { hitPath } from './hit-path.ts';
import { missOverhead } from './miss-overhead.ts';
import { peers } from './peers.ts';
import { redisVsMemory } from './redis.ts';
import { standardVsEnhanced } from './standard-vs-enhanced.ts';
import { streaming } from './streaming.ts';
import { telemetryCost } from './telemetry.ts';

/** What a plain `npm run bench` runs: issue 8's scenarios, in its order. */
export const SCENARIOS: readonly Scenario[] = [
  standardVsEnhanced,
  missOverhead,
  hitPath,
  telemetryCost,
  redisVsMemory,
  connections,
  streaming,
];

/**
 * Issue 14's, run by `--scenario <id>` or `--all`: `alloc` (bytes allocated per request, pack / bare)
 * and `peers` (beside Portkey's gateway, which it installs from npm on first use: not something a
 * plain run, or the PR gate, should do).
 */
export const OPT_IN_SCENARIOS: readonly Scenario[] = [allocation, peers];

/** Every scenario `--scenario` accepts. */
export const ALL_SCENARIOS: readonly Scenario[] = [...SCENARIOS, ...OPT_IN_SCENARIOS];

/** The scenarios a run selects: the named ones (any scenario), all of them, or the default set. */
export function selectScenarios(ids: readonly string[], all = false): readonly Scenario[] {
  const unknown = ids.filter((id) => !ALL_SCENARIOS.some((s) => s.id === id));
  if (unknown.length > 0) {
    throw new Error(
      `unknown scenario ${unknown.join(', ')}; known: ${ALL_SCENARIOS.map((s) => s.id).join(', ')}`,
    );
  }
  if (ids.length > 0) return ALL_SCENARIOS.filter((s) => ids.includes(s.id));
  return all ? ALL_SCENARIOS : SCENARIOS;
}
