#!/usr/bin/env node
/**
 * Demo traffic for docker-compose: runs demo/scenario.ts in a loop so every dashboard panel has data
 * within a minute of `docker compose up`. Env: GATEWAY_URL, SIMULATOR_URL, HEARTBEAT_FILE (touched after
 * every step, for the container health check), DEMO_ROUNDS (0 = until stopped), DEMO_PAUSE_MS.
 */
import { writeFileSync } from 'node:fs';
import { runScenario } from './scenario.ts';

const env = (name: string, fallback: string) => process.env[name]?.trim() || fallback;
const rounds = Number(env('DEMO_ROUNDS', '0'));
const pauseMs = Number(env('DEMO_PAUSE_MS', '2000'));
const heartbeat = process.env.HEARTBEAT_FILE;

/** Touched after every step, so the container health check sees a live generator. */
const beat = () => {
  if (heartbeat) writeFileSync(heartbeat, String(Date.now()));
};

let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
});
process.on('SIGINT', () => {
  stopping = true;
});

for (let round = 1; !stopping && (rounds === 0 || round <= rounds); round++) {
  const tally = await runScenario({
    gatewayUrl: env('GATEWAY_URL', 'http://127.0.0.1:8787'),
    simulatorUrl: env('SIMULATOR_URL', 'http://127.0.0.1:4010'),
    proKey: env('DEMO_PRO_KEY', 'demo-pro-key-0001'),
    freeKey: env('DEMO_FREE_KEY', 'demo-free-key-0001'),
    models: ['gpt-4o', 'gpt-4o-mini', 'claude-3-5-sonnet'],
    tightModel: 'claude-3-haiku',
    overloadModel: 'claude-3-sonnet',
    failingModel: 'gpt-4o-mini',
    fallbackModel: 'gpt-4o',
    halfOpenAfterSeconds: Number(env('DEMO_HALF_OPEN_AFTER', '10')),
    log: (line) => {
      console.log(`[round ${round}] ${line}`);
      beat();
    },
  });
  console.log(
    `[round ${round}] statuses ${JSON.stringify(tally.statuses)} cache ${JSON.stringify(tally.cache)}`,
  );
  beat();
  await new Promise((resolve) => setTimeout(resolve, pauseMs));
}
