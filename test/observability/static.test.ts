/**
 * Static checks of the observability stack: Prometheus config, rules and their unit tests through the
 * real `promtool`; docker-compose.yml (pinned images, loopback ports, health checks, mounted paths, the
 * ports each config names); the collector config (pipelines and real contrib components); the
 * dashboards (committed JSON = generated, datasource UIDs, metric names valid on both naming paths).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DCLinter } from 'dclint';
import { describe, expect, it } from 'vitest';
import { buildDashboards, serialize } from '../../grafana/src/build.ts';
import { parseConfig } from '../../src/gateway/config/index.ts';
import { type KnownMetric, knownMetrics, SPAN_METRICS, seriesNames } from './naming.ts';
import {
  alertRules,
  allPanels,
  committedDashboards,
  panelTargets,
  promPanelQueries,
  ROOT,
  read,
  readYaml,
  variableQueries,
} from './queries.ts';

const exists = (path: string) => existsSync(new URL(path, ROOT));

function promtool(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (result.error)
    throw new Error(`promtool: ${result.error.message} (apt-get install prometheus, or bash .ci/run)`);
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('prometheus', () => {
  it('promtool check config accepts prometheus/prometheus.yml (and the rule files it names)', () => {
    const { status, output } = promtool('check', 'config', 'prometheus/prometheus.yml');
    expect(output).toContain('SUCCESS');
    expect(output).toMatch(/rules\/alchemist-alerts\.yml/);
    expect(status, output).toBe(0);
  });

  it('promtool check rules accepts every rule file', () => {
    const files = readdirSync(new URL('prometheus/rules/', ROOT)).map((file) => `prometheus/rules/${file}`);
    const { status, output } = promtool('check', 'rules', ...files);
    expect(status, output).toBe(0);
  });

  it('promtool test rules passes, and every alert is shown to fire in a unit test', {
    timeout: 120_000,
  }, () => {
    const files = readdirSync(new URL('prometheus/tests/', ROOT)).map((file) => `prometheus/tests/${file}`);
    const { status, output } = promtool('test', 'rules', ...files);
    expect(status, output).toBe(0);
    const firing = new Set<string>();
    for (const file of files) {
      const doc = readYaml(file) as {
        tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
      };
      for (const test of doc.tests) {
        for (const check of test.alert_rule_test ?? []) {
          if (check.exp_alerts.length > 0) firing.add(check.alertname);
        }
      }
    }
    expect([...firing].sort()).toEqual(
      alertRules()
        .map((rule) => rule.alert)
        .sort(),
    );
  });

  it('has the six alerts the issue asks for and the budget alert, each `(measure) op threshold` with severity and text', () => {
    const rules = alertRules();
    expect(rules.map((rule) => rule.alert).sort()).toEqual([
      'AlchemistBudgetNearlySpent',
      'AlchemistCacheHitRateCollapse',
      'AlchemistCircuitBreakerOpen',
      'AlchemistLatencyP95High',
      'AlchemistRateLimitedRatioHigh',
      'AlchemistRedisDegraded',
      'AlchemistUpstreamErrorRatioHigh',
    ]);
    for (const rule of rules) {
      expect(rule.measure, `${rule.alert}: expr must be "( measure ) op threshold"`).not.toBe('');
      expect(['warning', 'critical']).toContain(rule.labels.severity);
      expect(rule.annotations.summary, rule.alert).toBeTruthy();
      expect(rule.annotations.description, rule.alert).toBeTruthy();
    }
  });
});

// --- metric names: every name a query uses exists on both naming paths -----------------------------

const METRICS: readonly KnownMetric[] = [...knownMetrics(), ...SPAN_METRICS];
const IN_PROCESS = new Set(METRICS.flatMap((metric) => seriesNames(metric, 'in-process')));
const COLLECTOR = new Set(METRICS.flatMap((metric) => seriesNames(metric, 'collector')));
const SPAN_ONLY = new Set(SPAN_METRICS.flatMap((metric) => seriesNames(metric, 'collector')));

/** The metric names an expression selects: `{__name__=~"re"}` regexes and bare `name{` / `name[`. */
function selectedNames(expr: string): { regexes: RegExp[]; names: string[] } {
  const regexes = [...expr.matchAll(/__name__=~"([^"]+)"/g)].map((match) => new RegExp(`^(?:${match[1]})$`));
  // Drop label lists (`by (...)`, `on (...)`) and matchers (`{...}`): what is left that looks like one
  // of our metrics is a metric name.
  const bare = expr
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\{[^}]*\}/g, '{}')
    // String arguments (label_replace's label names and regexes) are not selectors.
    .replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const names = [...bare.matchAll(/\b([a-z][a-z0-9_]*)\b(?!\s*\()/g)]
    .map((match) => match[1]!)
    .filter((name) => /^(alchemist|gen_ai|traces|process|v8js|nodejs)_/.test(name));
  return { regexes, names };
}

function checkNames(where: string, expr: string): void {
  const { regexes, names } = selectedNames(expr);
  expect(regexes.length + names.length, `${where}: selects no known metric: ${expr}`).toBeGreaterThan(0);
  for (const regex of regexes) {
    expect(
      [...IN_PROCESS].some((name) => regex.test(name)),
      `${where}: ${regex} matches no in-process name`,
    ).toBe(true);
    expect(
      [...COLLECTOR].some((name) => regex.test(name)),
      `${where}: ${regex} matches no collector name`,
    ).toBe(true);
  }
  for (const name of names) {
    if (SPAN_ONLY.has(name)) continue;
    // A bare name must be the same on both paths (no unit suffix), or one path would see nothing.
    expect(IN_PROCESS.has(name), `${where}: ${name} is not an in-process metric name`).toBe(true);
    expect(COLLECTOR.has(name), `${where}: ${name} differs on the collector path (use metric())`).toBe(true);
  }
}

describe('metric names', () => {
  it('derives both paths as documented (no suffix in-process; unit suffix through the collector)', () => {
    expect(IN_PROCESS).toContain('alchemist_request_duration_bucket');
    expect(COLLECTOR).toContain('alchemist_request_duration_seconds_bucket');
    expect(COLLECTOR).toContain('alchemist_cost_USD_total');
    expect(COLLECTOR).toContain('alchemist_cache_size_bytes');
    expect(COLLECTOR).toContain('gen_ai_client_token_usage_bucket');
    expect(COLLECTOR).toContain('nodejs_eventloop_utilization_ratio');
    expect(COLLECTOR).toContain('process_cpu_time_seconds_total');
    expect(COLLECTOR).toContain('alchemist_circuit_breaker_state');
  });

  it('every dashboard query and variable selects metrics that exist on both paths', () => {
    for (const query of promPanelQueries()) checkNames(`${query.dashboard} / ${query.panel}`, query.expr);
    for (const variable of variableQueries())
      checkNames(`${variable.dashboard} $${variable.name}`, variable.selector);
  });

  it('every alert selects metrics that exist on both paths', () => {
    for (const rule of alertRules()) checkNames(rule.alert, rule.expr);
  });

  it('catches a misnamed metric (positive control)', () => {
    expect(() =>
      checkNames('control', 'sum(rate({__name__=~"alchemist_request_durations(_seconds)?_count"}[1m]))'),
    ).toThrow();
    expect(() => checkNames('control', 'sum(alchemist_cache_size)')).toThrow();
  });
});

// --- dashboards ----------------------------------------------------------------------------------------

describe('grafana dashboards', () => {
  const dashboards = committedDashboards();

  it('the committed JSON is exactly what grafana/src generates (run `node grafana/src/build.ts`)', () => {
    const generated = buildDashboards();
    expect(Object.keys(dashboards).sort()).toEqual(Object.keys(generated).sort());
    for (const [file, dashboard] of Object.entries(generated)) {
      expect(read(`grafana/dashboards/${file}`), file).toBe(serialize(dashboard));
    }
  });

  it('has the five dashboards of the issue, with unique uids and panel ids, inside the 24-column grid', () => {
    const titles = Object.values(dashboards).map((dashboard) =>
      dashboard.title.replace('alchemist-perf / ', ''),
    );
    expect(titles.sort()).toEqual(['Cache', 'Models', 'Overview', 'Rate Limits', 'System']);
    expect(new Set(Object.values(dashboards).map((dashboard) => dashboard.uid)).size).toBe(5);
    for (const dashboard of Object.values(dashboards)) {
      const panels = allPanels(dashboard) as unknown as { id: number; gridPos: { x: number; w: number } }[];
      expect(new Set(panels.map((panel) => panel.id)).size, dashboard.title).toBe(panels.length);
      for (const panel of panels) expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
    }
  });

  it('every datasource a dashboard names is provisioned with that uid', () => {
    const provisioned = readYaml('grafana/provisioning/datasources/datasources.yaml') as {
      datasources: { uid: string; type: string; url: string; jsonData?: Record<string, unknown> }[];
    };
    const uids = new Set(provisioned.datasources.map((source) => source.uid));
    for (const target of panelTargets())
      expect(uids, `${target.dashboard} / ${target.panel}`).toContain(target.datasourceUid);
    for (const dashboard of Object.values(dashboards)) {
      for (const variable of dashboard.templating.list) {
        if (variable.datasource) expect(uids).toContain(variable.datasource.uid);
      }
    }
    // Exemplar links point at the provisioned Jaeger datasource.
    const prometheus = provisioned.datasources.find((source) => source.type === 'prometheus')!;
    const destinations = prometheus.jsonData?.exemplarTraceIdDestinations as {
      datasourceUid: string;
      name: string;
    }[];
    expect(destinations.map((destination) => destination.name)).toContain('trace_id');
    for (const destination of destinations) expect(uids).toContain(destination.datasourceUid);
  });

  it('health panels are colour-coded and a latency panel links to traces', () => {
    const overview = dashboards['overview.json']!;
    const stats = allPanels(overview).filter((panel) => panel.type === 'stat') as unknown as {
      fieldConfig: { defaults: { thresholds: { steps: { color: string }[] } } };
    }[];
    const coloured = stats.filter(
      (panel) => new Set(panel.fieldConfig.defaults.thresholds.steps.map((s) => s.color)).size > 1,
    );
    expect(coloured.length).toBeGreaterThanOrEqual(6);
    expect(JSON.stringify(overview)).toContain('/search?service=alchemist-perf&minDuration=');
    const exemplars = promPanelQueries().filter((query) =>
      query.expr.includes('traces_span_metrics_duration'),
    );
    expect(exemplars.length).toBeGreaterThan(0);
    expect(JSON.stringify(dashboards['models.json'])).toContain('"exemplar":true');
  });
});

// --- docker-compose ------------------------------------------------------------------------------------

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  'x-healthcheck-exempt'?: string;
}

const compose = readYaml('docker-compose.yml') as { services: Record<string, Service> };
const services = compose.services;
const collector = readYaml('otel-collector/config.yaml') as Record<string, Record<string, unknown>> & {
  service: {
    extensions?: string[];
    pipelines: Record<string, { receivers: string[]; processors?: string[]; exporters: string[] }>;
  };
};
const prometheusConfig = readYaml('prometheus/prometheus.yml') as {
  rule_files: string[];
  scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
};

/** host:port of a URL or `host:port` string. */
const hostPort = (value: string) => {
  const url = new URL(value.includes('://') ? value : `tcp://${value}`);
  return { host: url.hostname, port: Number(url.port) };
};
/** Container ports a service publishes. */
const containerPorts = (service: Service) =>
  (service.ports ?? []).map((port) => Number(port.split(':').at(-1)));

/**
 * dclint validates against the Compose Specification JSON schema it bundles (what `docker compose
 * config` checks first); its correctness rules run as errors, its ordering and quoting style rules off.
 */
function lintCompose(path: string): { messages: { rule: string; message: string }[] } {
  const linter = new DCLinter({
    rules: {
      'no-build-and-image': 2,
      'no-duplicate-container-names': 2,
      'no-duplicate-exported-ports': 2,
      'no-unbound-port-interfaces': 2,
      'no-version-field': 2,
      'require-project-name-field': 2,
      'service-image-require-explicit-tag': 2,
      'no-quotes-in-volumes': 2,
      'require-quotes-in-ports': 0,
      'service-dependencies-alphabetical-order': 0,
      'service-keys-order': 0,
      'service-ports-alphabetical-order': 0,
      'services-alphabetical-order': 0,
      'top-level-properties-order': 0,
    },
    quiet: true,
    debug: false,
    exclude: [],
  });
  return linter.lintFiles([path], false)[0]!;
}

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification schema and dclint correctness rules', () => {
    const result = lintCompose(fileURLToPath(new URL('docker-compose.yml', ROOT)));
    expect(result.messages).toEqual([]);
  });

  it('the schema check catches a broken file (positive control)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'alchemist-compose-'));
    try {
      const bad = join(dir, 'docker-compose.yml');
      writeFileSync(
        bad,
        'name: x\nservices:\n  a:\n    image: redis:7.4.2\n    healthcheck:\n      probe: 1\n',
      );
      expect(lintCompose(bad).messages.map((message) => message.rule)).toContain('invalid-schema');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has the services of the issue', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'gateway',
        'grafana',
        'jaeger',
        'otel-collector',
        'prometheus',
        'redis',
        'simulator',
        'traffic',
      ].sort(),
    );
    expect(services.jaeger!.image).toMatch(/^jaegertracing\/jaeger:2\./);
    expect(services['otel-collector']!.image).toMatch(/^otel\/opentelemetry-collector-contrib:/);
  });

  it('pins every image to a version (never latest), including the Dockerfile base', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.build !== undefined) {
        expect(service.image, `${name}: built from the Dockerfile`).toBeUndefined();
        continue;
      }
      expect(service.image, name).toMatch(/^[\w./-]+:v?\d+(\.\d+){1,2}([-\w.]*)$/);
    }
    const from = /^FROM\s+(\S+)/m.exec(read('Dockerfile'))![1]!;
    expect(from).toMatch(/^node:\d+\.\d+\.\d+-/);
  });

  it('publishes ports on 127.0.0.1 only', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? []) expect(port, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    }
  });

  it('gives every service a health check, or says why Docker cannot probe it', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service['x-healthcheck-exempt']) continue;
      expect(service.healthcheck?.test?.[0], name).toBe('CMD');
    }
    expect(Object.values(services).filter((service) => service['x-healthcheck-exempt'])).toHaveLength(1);
  });

  it('mounts only files that exist, and depends only on defined services', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        expect(source.startsWith('./'), `${name}: ${volume} must be a repo path`).toBe(true);
        expect(exists(source.slice(2)), `${name}: ${source} does not exist`).toBe(true);
      }
      for (const dependency of Object.keys(service.depends_on ?? {}))
        expect(services, name).toHaveProperty(dependency);
    }
    for (const service of Object.values(services).filter((s) => s.build !== undefined)) {
      const script = service.command?.find((arg) => arg.endsWith('.ts'));
      expect(script && exists(script), `${script} must exist`).toBe(true);
    }
    for (const match of read('Dockerfile').matchAll(/^COPY\s+(.+)\s+\S+$/gm)) {
      for (const source of match[1]!.split(/\s+/))
        expect(exists(source), `Dockerfile COPY ${source}`).toBe(true);
    }
  });

  it('names the same ports and paths as the configs it mounts', () => {
    // Prometheus scrapes the collector's exporter and its own telemetry.
    const targets = prometheusConfig.scrape_configs.flatMap((job) =>
      job.static_configs.flatMap((c) => c.targets),
    );
    const exporter = hostPort((collector.exporters!.prometheus as { endpoint: string }).endpoint);
    expect(targets).toContain(`otel-collector:${exporter.port}`);
    const telemetry = (
      collector.service as unknown as {
        telemetry: { metrics: { readers: { pull: { exporter: { prometheus: { port: number } } } }[] } };
      }
    ).telemetry.metrics.readers[0]!.pull.exporter.prometheus.port;
    expect(targets).toContain(`otel-collector:${telemetry}`);
    for (const target of targets) {
      const { host } = hostPort(target);
      if (host !== 'localhost') expect(services).toHaveProperty(host);
    }
    // The gateway pushes OTLP/HTTP to the collector's http receiver.
    const otlp = hostPort(services.gateway!.environment!.OTEL_EXPORTER_OTLP_ENDPOINT!);
    const receivers = collector.receivers!.otlp as {
      protocols: { http: { endpoint: string }; grpc: { endpoint: string } };
    };
    expect(otlp).toEqual({ host: 'otel-collector', port: hostPort(receivers.protocols.http.endpoint).port });
    // The collector exports traces to Jaeger's OTLP gRPC port.
    const jaeger = hostPort((collector.exporters!['otlp_grpc/jaeger'] as { endpoint: string }).endpoint);
    expect(jaeger).toEqual({ host: 'jaeger', port: 4317 });
    // Grafana's datasources point at the services and ports of the stack.
    const sources = (
      readYaml('grafana/provisioning/datasources/datasources.yaml') as { datasources: { url: string }[] }
    ).datasources;
    for (const source of sources) {
      const { host, port } = hostPort(source.url);
      expect(containerPorts(services[host]!), source.url).toContain(port);
    }
    // Grafana loads dashboards from where compose mounts them.
    const provider = (
      readYaml('grafana/provisioning/dashboards/dashboards.yaml') as {
        providers: { options: { path: string } }[];
      }
    ).providers[0]!;
    expect(services.grafana!.volumes).toContain(`./grafana/dashboards:${provider.options.path}:ro`);
    expect(services.grafana!.environment!.GF_AUTH_ANONYMOUS_ENABLED).toBe('true');
    expect(services.grafana!.environment!.GF_AUTH_ANONYMOUS_ORG_ROLE).toBe('Viewer');
    // Prometheus reads the mounted config; its rule_files resolve inside the mounted folder.
    expect(services.prometheus!.volumes).toContain('./prometheus:/etc/prometheus:ro');
    expect(services.prometheus!.command).toContain('--config.file=/etc/prometheus/prometheus.yml');
    expect(services.prometheus!.command).toContain('--enable-feature=exemplar-storage');
    // The collector reads the mounted config.
    const collectorMount = services['otel-collector']!.volumes![0]!.split(':')[1];
    expect(services['otel-collector']!.command).toContain(`--config=${collectorMount}`);
  });

  it('the gateway config of the demo loads, and names the simulator and Redis of the stack', () => {
    const gateway = services.gateway!;
    const configPath = gateway.command![gateway.command!.indexOf('--config') + 1]!;
    const mount = gateway.volumes!.find((volume) => volume.split(':')[1] === configPath)!;
    const config = parseConfig(read(mount.split(':')[0]!.slice(2)), gateway.environment ?? {}, mount);
    expect(config.server.host).toBe('0.0.0.0');
    expect(containerPorts(gateway)).toContain(config.server.port);
    expect(containerPorts(gateway)).toContain(Number(gateway.environment!.OTEL_EXPORTER_PROMETHEUS_PORT));
    expect(hostPort(config.cache.redisUrl!).host).toBe('redis');
    expect(services.redis).toBeDefined();
    const simulatorPort = Number(
      services.simulator!.command![services.simulator!.command!.indexOf('--port') + 1],
    );
    for (const provider of Object.values(config.providers)) {
      expect(hostPort(provider.baseUrl)).toEqual({ host: 'simulator', port: simulatorPort });
    }
    expect(config.simulator.enabled).toBe(false);
    const traffic = services.traffic!.environment!;
    expect(hostPort(traffic.GATEWAY_URL!)).toEqual({ host: 'gateway', port: config.server.port });
    expect(hostPort(traffic.SIMULATOR_URL!)).toEqual({ host: 'simulator', port: simulatorPort });
  });
});

// --- collector -------------------------------------------------------------------------------------------

/**
 * Component types this config may use, each a real component of the collector-contrib distribution
 * (open-telemetry/opentelemetry-collector-releases distributions/otelcol-contrib/manifest.yaml):
 * receiver/otlpreceiver and exporter/otlpexporter (type `otlp_grpc` since v0.144.0), processor/
 * batchprocessor and memorylimiterprocessor from open-telemetry/opentelemetry-collector; exporter/
 * prometheusexporter, connector/spanmetricsconnector (type `span_metrics`) and extension/
 * healthcheckextension from open-telemetry/opentelemetry-collector-contrib.
 */
const CONTRIB_COMPONENTS = {
  receivers: ['otlp'],
  processors: ['batch', 'memory_limiter'],
  exporters: ['otlp_grpc', 'prometheus'],
  connectors: ['span_metrics'],
  extensions: ['health_check'],
} as const;

describe('otel-collector/config.yaml', () => {
  const kinds = Object.keys(CONTRIB_COMPONENTS) as (keyof typeof CONTRIB_COMPONENTS)[];

  it('defines only allowlisted contrib component types, and uses every one of them', () => {
    for (const kind of kinds) {
      const types = Object.keys(collector[kind] ?? {}).map((id) => id.split('/')[0]!);
      for (const type of types) expect(CONTRIB_COMPONENTS[kind] as readonly string[], kind).toContain(type);
      expect([...new Set(types)].sort(), kind).toEqual([...CONTRIB_COMPONENTS[kind]].sort());
    }
  });

  it('pipelines name only defined components; connectors bridge traces to metrics', () => {
    const defined = (kind: keyof typeof CONTRIB_COMPONENTS) => Object.keys(collector[kind] ?? {});
    const pipelines = collector.service.pipelines;
    expect(Object.keys(pipelines).sort()).toEqual(['metrics', 'traces']);
    const used = { receivers: new Set<string>(), exporters: new Set<string>() };
    for (const [name, pipeline] of Object.entries(pipelines)) {
      for (const receiver of pipeline.receivers) {
        expect([...defined('receivers'), ...defined('connectors')], name).toContain(receiver);
        used.receivers.add(receiver);
      }
      for (const processor of pipeline.processors ?? [])
        expect(defined('processors'), name).toContain(processor);
      for (const exporter of pipeline.exporters) {
        expect([...defined('exporters'), ...defined('connectors')], name).toContain(exporter);
        used.exporters.add(exporter);
      }
      // memory_limiter first, batch after it (collector processor READMEs).
      expect(pipeline.processors?.[0], name).toBe('memory_limiter');
      expect(pipeline.processors, name).toContain('batch');
    }
    for (const connector of defined('connectors')) {
      expect(used.exporters).toContain(connector);
      expect(used.receivers).toContain(connector);
    }
    for (const extension of collector.service.extensions ?? [])
      expect(defined('extensions')).toContain(extension);
    expect(pipelines.traces!.exporters).toContain('otlp_grpc/jaeger');
    expect(pipelines.metrics!.exporters).toContain('prometheus');
  });

  it('exports exemplars: span_metrics with exemplars, OpenMetrics on the prometheus exporter', () => {
    const spanMetrics = collector.connectors!.span_metrics as {
      exemplars: { enabled: boolean };
      histogram: { unit: string };
    };
    expect(spanMetrics.exemplars.enabled).toBe(true);
    expect(spanMetrics.histogram.unit).toBe('s'); // → traces_span_metrics_duration_seconds_bucket
    expect((collector.exporters!.prometheus as { enable_open_metrics: boolean }).enable_open_metrics).toBe(
      true,
    );
  });

  it('puts resource attributes on every series, as the collector path of the live test does', () => {
    const exporter = collector.exporters!.prometheus as {
      resource_to_telemetry_conversion?: { enabled: boolean };
    };
    expect(exporter.resource_to_telemetry_conversion).toEqual({ enabled: true });
  });

  it('listens on all interfaces inside its container', () => {
    const receivers = collector.receivers!.otlp as { protocols: Record<string, { endpoint: string }> };
    for (const protocol of Object.values(receivers.protocols))
      expect(protocol.endpoint).toMatch(/^0\.0\.0\.0:/);
  });
});

describe('prerequisites', () => {
  it('prometheus and promtool are installed (bash .ci/run installs them)', () => {
    expect(execFileSync('prometheus', ['--version'], { encoding: 'utf8' })).toMatch(/prometheus, version/);
  });
});
