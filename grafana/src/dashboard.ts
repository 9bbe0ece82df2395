import type { Panel } from './panels.ts';
import { PROMETHEUS } from './panels.ts';

/** A query template variable (`$model`, `$tier`): label values of a metric, multi-select with All. */
export interface QueryVariable {
  readonly name: string;
  readonly label: string;
  /** Selector whose label values are listed, e.g. `{__name__=~"gen_ai_client_operation_duration(_seconds)?_count"}`. */
  readonly selector: string;
  readonly labelName: string;
}

export interface DashboardOptions {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly panels: readonly Panel[];
  readonly variables?: readonly QueryVariable[];
}

/** Where Jaeger's UI is reached from the browser (the compose stack publishes it on this port). */
export const JAEGER_UI_DEFAULT = 'http://localhost:16686';
/** service.name of the gateway (OTEL_SERVICE_NAME), used in Jaeger searches. */
export const SERVICE_NAME = 'alchemist-perf';

/** Place panels left to right, wrapping at 24 columns; a row header starts a new line. Ids from 1. */
function layout(panels: readonly Panel[]): Panel[] {
  let x = 0;
  let y = 0;
  let lineHeight = 0;
  return panels.map((panel, index) => {
    const placed: Panel = { ...panel, id: index + 1, gridPos: { ...panel.gridPos } };
    if (panel.type === 'row' || x + panel.gridPos.w > 24) {
      y += lineHeight;
      x = 0;
      lineHeight = 0;
    }
    placed.gridPos.x = x;
    placed.gridPos.y = y;
    x += panel.gridPos.w;
    lineHeight = Math.max(lineHeight, panel.gridPos.h);
    if (panel.type === 'row') {
      y += panel.gridPos.h;
      x = 0;
      lineHeight = 0;
    }
    return placed;
  });
}

function queryVariable(variable: QueryVariable) {
  const query = `label_values(${variable.selector}, ${variable.labelName})`;
  return {
    name: variable.name,
    label: variable.label,
    type: 'query',
    datasource: PROMETHEUS,
    definition: query,
    query: { query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    refresh: 2,
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    sort: 1,
    hide: 0,
  };
}

/** The whole dashboard JSON: fixed uid (stable URLs), live refresh, links to the others and to Jaeger. */
export function dashboard(options: DashboardOptions) {
  return {
    uid: options.uid,
    title: options.title,
    description: options.description,
    tags: ['alchemist-perf'],
    editable: true,
    graphTooltip: 1,
    refresh: '10s',
    schemaVersion: 39,
    time: { from: 'now-30m', to: 'now' },
    timepicker: {},
    timezone: 'browser',
    version: 1,
    links: [
      { title: 'alchemist-perf', type: 'dashboards', tags: ['alchemist-perf'], asDropdown: false },
      {
        title: 'Traces in Jaeger',
        type: 'link',
        icon: 'external link',
        url: `\${jaeger_url}/search?service=${SERVICE_NAME}`,
        targetBlank: true,
        tags: [],
        asDropdown: false,
      },
    ],
    templating: {
      list: [
        ...(options.variables ?? []).map(queryVariable),
        {
          name: 'jaeger_url',
          label: 'Jaeger UI',
          type: 'textbox',
          query: JAEGER_UI_DEFAULT,
          current: { text: JAEGER_UI_DEFAULT, value: JAEGER_UI_DEFAULT },
          hide: 2,
        },
      ],
    },
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    panels: layout(options.panels),
  };
}

export type Dashboard = ReturnType<typeof dashboard>;
