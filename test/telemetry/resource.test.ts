import { afterEach, describe, expect, it } from 'vitest';
import { setupTelemetry, type Telemetry } from '../../src/telemetry/setup.ts';
import { freePort } from '../helpers/ports.ts';

/** The `target_info` labels the in-process Prometheus exporter serves: the resource, as scraped. */
async function targetInfo(telemetry: Telemetry): Promise<Record<string, string>> {
  const text = await (await fetch(`http://127.0.0.1:${telemetry.prometheusPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('target_info{'));
  if (!line) throw new Error(`no target_info in:\n${text.slice(0, 500)}`);
  return Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

// Issue 15: the resource carried only service.name and the SDK attributes (`resourceDetectors: []`),
// so replicas behind a collector merged into one `instance`, and OTEL_RESOURCE_ATTRIBUTES was ignored.
describe('the telemetry resource', () => {
  let telemetry: Telemetry | undefined;
  const saved = process.env.OTEL_RESOURCE_ATTRIBUTES;
  afterEach(async () => {
    await telemetry?.shutdown();
    telemetry = undefined;
    if (saved === undefined) delete process.env.OTEL_RESOURCE_ATTRIBUTES;
    else process.env.OTEL_RESOURCE_ATTRIBUTES = saved;
  });

  it('has service.version, a service.instance.id per process, and honours OTEL_RESOURCE_ATTRIBUTES', async () => {
    process.env.OTEL_RESOURCE_ATTRIBUTES = 'deployment.environment.name=staging';
    telemetry = await setupTelemetry({
      serviceName: 'resource-test',
      serviceVersion: '1.2.3',
      prometheusPort: await freePort(),
      runtimeMetrics: false,
    });
    const labels = await targetInfo(telemetry);
    expect(labels.service_name).toBe('resource-test');
    expect(labels.service_version).toBe('1.2.3');
    expect(labels.service_instance_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(labels.deployment_environment_name).toBe('staging');
    expect(labels.telemetry_sdk_language).toBe('nodejs');
  });

  it('takes an explicit service.instance.id', async () => {
    telemetry = await setupTelemetry({
      serviceInstanceId: 'gateway-a:8787',
      prometheusPort: await freePort(),
      runtimeMetrics: false,
    });
    expect((await targetInfo(telemetry)).service_instance_id).toBe('gateway-a:8787');
  });
});
