import { describe, expect, it } from 'vitest';
import { expectOutageServed, redisOutage } from '../e2e/harness/redis-outage.ts';

const GATEWAYS = 3;

describe('Redis killed under steady load, down 10 s, restarted (three gateways)', () => {
  it('fails no request that could be served; limits degrade and are global again after', async () => {
    const report = await redisOutage({
      outageMs: 10_000,
      rps: 50,
      beforeMs: 3000,
      afterMs: 5000,
      gateways: GATEWAYS,
    });
    console.info(`redis outage 10 s: ${JSON.stringify(report, null, 2)}`);
    expectOutageServed(report);
    expect(report.phases.outage.p99).toBeLessThan(3000);
  });
});
