import type { Scenario } from '../scenario.ts';
import { connections } from './connections.ts';
import { hitPath } from './hit-path.ts';
import { missOverhead } from './miss-overhead.ts';
import { redisVsMemory } from './redis.ts';
import { standardVsEnhanced } from './standard-vs-enhanced.ts';
import { streaming } from './streaming.ts';
import { telemetryCost } from './telemetry.ts';

/** The scenarios, in its order. */
export const SCENARIOS: readonly Scenario[] = [
  standardVsEnhanced,
  missOverhead,
  hitPath,
  telemetryCost,
  redisVsMemory,
  connections,
  streaming,
];
