/** Every PromQL expression the stack ships: dashboard panel targets, variable queries, alert rules. */
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';

export const ROOT = new URL('../../', import.meta.url);
export const read = (path: string) => readFileSync(new URL(path, ROOT), 'utf8');
export const readYaml = (path: string): unknown => parse(read(path), { merge: true });

export interface PanelQuery {
  readonly dashboard: string;
  readonly panel: string;
  readonly refId: string;
  readonly expr: string;
  readonly datasourceUid: string;
}

interface PanelJson {
  title: string;
  type: string;
  datasource?: { uid: string };
  targets?: { refId: string; expr?: string; datasource?: { type: string; uid: string } }[];
  panels?: PanelJson[];
}

export interface DashboardJson {
  uid: string;
  title: string;
  panels: PanelJson[];
  templating: { list: { name: string; type: string; query: unknown; datasource?: { uid: string } }[] };
}

/** The committed dashboards, by file name. */
export function committedDashboards(): Record<string, DashboardJson> {
  const dir = new URL('grafana/dashboards/', ROOT);
  const found: Record<string, DashboardJson> = {};
  for (const file of readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()) {
    found[file] = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as DashboardJson;
  }
  return found;
}

export function allPanels(dashboard: DashboardJson): PanelJson[] {
  return dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

/** Every target of every panel (Prometheus and others), with its datasource uid. */
export function panelTargets(): PanelQuery[] {
  const found: PanelQuery[] = [];
  for (const dashboard of Object.values(committedDashboards())) {
    for (const panel of allPanels(dashboard)) {
      for (const target of panel.targets ?? []) {
        found.push({
          dashboard: dashboard.title,
          panel: panel.title,
          refId: target.refId,
          expr: target.expr ?? '',
          datasourceUid: target.datasource?.uid ?? panel.datasource?.uid ?? '',
        });
      }
    }
  }
  return found;
}

/** Prometheus panel queries only. */
export function promPanelQueries(): PanelQuery[] {
  return panelTargets().filter((query) => query.datasourceUid === 'prometheus');
}

/** `label_values(selector, label)` variables, as a series selector and the label they list. */
export function variableQueries(): { dashboard: string; name: string; selector: string; label: string }[] {
  const found = [];
  for (const dashboard of Object.values(committedDashboards())) {
    for (const variable of dashboard.templating.list) {
      if (variable.type !== 'query') continue;
      const query = (variable.query as { query: string }).query;
      const match = /^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$/s.exec(query);
      if (!match)
        throw new Error(`${dashboard.title} $${variable.name}: not a label_values() query: ${query}`);
      found.push({ dashboard: dashboard.title, name: variable.name, selector: match[1]!, label: match[2]! });
    }
  }
  return found;
}

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  /** The expression without its final comparison: what the alert measures. */
  readonly measure: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly for?: string;
}

const MEASURE = /^\(([\s\S]*)\)\s*(==|!=|>=|<=|>|<)\s*(-?[0-9.]+)\s*$/;

export function alertRules(): AlertRule[] {
  const dir = new URL('prometheus/rules/', ROOT);
  const rules: AlertRule[] = [];
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.yml'))) {
    const doc = readYaml(`prometheus/rules/${file}`) as {
      groups: { rules: Omit<AlertRule, 'measure'>[] }[];
    };
    for (const group of doc.groups) {
      for (const rule of group.rules) {
        const match = MEASURE.exec(rule.expr.trim());
        rules.push({ ...rule, measure: match ? match[1]!.trim() : '' });
      }
    }
  }
  return rules;
}

/** What Grafana knows when it sends a panel's query: the dashboard's time range and the panel's size. */
export interface GrafanaRange {
  /** Dashboard time range, unix seconds. */
  readonly from: number;
  readonly to: number;
  /** Points the panel asks for (Grafana: the panel's width in pixels, or its Max data points). */
  readonly maxDataPoints: number;
  /** The datasource's scrape interval (`jsonData.timeInterval`), seconds: the lower bound of $__interval. */
  readonly scrapeIntervalSeconds: number;
}

/**
 * Grafana's interval rounding (`rangeUtil.roundInterval`, public/app/core/utils/kbn): the raw
 * interval, in ms, becomes the next "nice" step.
 */
function roundInterval(ms: number): number {
  const steps: [number, number][] = [
    [10, 1],
    [15, 10],
    [35, 20],
    [75, 50],
    [150, 100],
    [350, 200],
    [750, 500],
    [1500, 1000],
    [3500, 2000],
    [7500, 5000],
    [12500, 10000],
    [17500, 15000],
    [25000, 20000],
    [45000, 30000],
    [52500, 45000],
    [90000, 60000],
    [150000, 120000],
    [210000, 180000],
    [270000, 240000],
    [450000, 300000],
    [750000, 600000],
    [1050000, 900000],
    [1500000, 1200000],
    [2700000, 1800000],
    [5400000, 3600000],
    [9000000, 7200000],
    [16200000, 10800000],
    [32400000, 21600000],
    [86400000, 43200000],
    [604800000, 86400000],
    [1814400000, 604800000],
    [3628800000, 2592000000],
  ];
  for (const [upTo, step] of steps) if (ms <= upTo) return step;
  return 31536000000;
}

/** The durations Grafana substitutes for a range: `$__interval`, `$__rate_interval`, `$__range` (seconds). */
export function grafanaIntervals(range: GrafanaRange) {
  const rangeMs = (range.to - range.from) * 1000;
  const intervalMs = Math.max(
    range.scrapeIntervalSeconds * 1000,
    roundInterval(rangeMs / range.maxDataPoints),
  );
  // Prometheus datasource: max($__interval + scrape interval, 4 × scrape interval).
  const rateMs = Math.max(
    intervalMs + range.scrapeIntervalSeconds * 1000,
    4 * range.scrapeIntervalSeconds * 1000,
  );
  return { interval: intervalMs / 1000, rate: rateMs / 1000, range: Math.round(rangeMs / 1000) };
}

/**
 * The query exactly as Grafana sends it to Prometheus: `$__rate_interval`, `$__interval` and `$__range`
 * (and `$__range_s`) substituted for `range`, and every template variable (`label=~"$var"`) at its "All"
 * value, the dashboards' `allValue` `.*`. Nothing else changes: `or vector(0)` fallbacks stay.
 */
export function grafanaQuery(expr: string, range: GrafanaRange): string {
  const { interval, rate, range: seconds } = grafanaIntervals(range);
  return expr
    .replaceAll('$__rate_interval', `${rate}s`)
    .replaceAll('$__range_s', String(seconds))
    .replaceAll('$__range', `${seconds}s`)
    .replaceAll('$__interval', `${interval}s`)
    .replace(/\$\{?([a-zA-Z_][a-zA-Z0-9_]*)\}?/g, '.*');
}

/**
 * The query with its `or vector(0)` fallbacks removed: what must return series on its own, so that a
 * misnamed metric cannot pass by returning the fallback (the values are checked on the exact query).
 */
export function withoutFallback(expr: string): string {
  return expr.replace(/\s*or vector\(0\)/g, '');
}
