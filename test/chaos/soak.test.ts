import { describe, expect, it } from 'vitest';
import { runSoak } from './soak.ts';

// Ten minutes of mixed traffic, only when asked: ALCHEMIST_SOAK=1 npm run test:chaos -- test/chaos/soak.test.ts
// (ALCHEMIST_SOAK_MINUTES changes the length). `node test/chaos/soak.ts` runs the same without vitest.
const enabled = process.env.ALCHEMIST_SOAK === '1';
const minutes = Number(process.env.ALCHEMIST_SOAK_MINUTES ?? 10);

describe.skipIf(!enabled)('soak', () => {
  it(
    `${minutes} minutes of mixed traffic: RSS, descriptors and event-loop delay stay flat`,
    async () => {
      const report = await runSoak({ minutes });
      const { windows: _windows, ...summary } = report;
      console.info(`soak: ${JSON.stringify(summary)}`);
      expect(report.reasons).toEqual([]);
    },
    (minutes + 3) * 60_000,
  );
});
