import { describe, expect, it } from 'vitest';
import { redisOutage } from '../e2e/harness/redis-outage.ts';

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
    expect(report.failed).toEqual([]);
    expect(report.storeAvailableDuringOutage.every((value) => value === 0)).toBe(true);
    // Degraded is visible on /readyz but still ready (200): the process keeps serving.
    for (const readyz of report.readyzDuringOutage) {
      expect(readyz).toMatch(/^200 /);
      expect(readyz).toContain('"redis":"down"');
      expect(readyz).toContain('"mode":"local-fallback"');
    }
    for (const readyz of report.readyzAfter) expect(readyz).toContain('"mode":"redis"');
    // Degraded, each process enforces limit / instances on its own: limited, never unlimited, and
    // the sum over the processes stays within the global limit.
    expect(report.burstAdmittedDuringOutage).toBeGreaterThan(0);
    expect(report.burstAdmittedDuringOutage).toBeLessThanOrEqual(report.tierLimit);
    expect(report.burstAdmittedAfter).toBe(report.tierLimit);
    expect(report.leaks).toEqual([]);
    expect(report.phases.outage.p99).toBeLessThan(3000);
  });
});
