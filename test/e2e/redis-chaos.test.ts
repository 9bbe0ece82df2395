import { describe, expect, it } from 'vitest';
import { expectOutageServed, redisOutage } from './harness/redis-outage.ts';

// Short Redis outage (2.5 s) under steady load on two gateways; the 10 s version is
// test/chaos/redis-outage.test.ts (npm run test:chaos).

const GATEWAYS = 2;

describe('Redis killed under steady load, down 2.5 s, restarted', () => {
  it('fails no request, shows the degraded state, and is global again after', async () => {
    const report = await redisOutage({ outageMs: 2500, rps: 30, gateways: GATEWAYS });
    console.info(
      `redis outage 2.5 s: ${JSON.stringify(report.phases)} recovery ${report.recoveryMs} ms, tight tier ${report.burstAdmittedDuringOutage}/${report.tierLimit} admitted while down`,
    );
    expect(report.phases.outage.count).toBeGreaterThan(30);
    expectOutageServed(report);
    // Degraded latency stays bounded: no request waited on a dead Redis for long. Generous, because
    // this 2-core machine is shared; the real figures are printed above.
    expect(report.phases.outage.p99).toBeLessThan(3000);
  });
});
