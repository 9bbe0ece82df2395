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

/**
 * Make a Grafana query plain PromQL: `$__rate_interval`, `$__range` and `$__interval` become durations,
 * `$var` (used as `label=~"$var"`) becomes `.*` (the "All" value), and `or vector(0)` fallbacks are
 * removed so that a query on a misnamed metric cannot pass by returning the fallback.
 */
export function substitute(expr: string, durations = { rate: '1m', range: '5m', interval: '5s' }): string {
  return expr
    .replaceAll('$__rate_interval', durations.rate)
    .replaceAll('$__range', durations.range)
    .replaceAll('$__interval', durations.interval)
    .replace(/\$\{?([a-zA-Z_][a-zA-Z0-9_]*)\}?/g, '.*')
    .replace(/\s*or vector\(0\)/g, '');
}
