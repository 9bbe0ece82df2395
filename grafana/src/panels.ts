/**
 * Minimal typed builders for the Grafana dashboard JSON model (schemaVersion 39, Grafana 10-12), just
 * the panel kinds the bundled dashboards use. Output is plain JSON, committed under grafana/dashboards.
 */
import { hitRatio } from './promql.ts';

/** Fixed datasource UIDs, provisioned by grafana/provisioning/datasources/datasources.yaml. */
export const PROMETHEUS = { type: 'prometheus', uid: 'prometheus' } as const;
export const JAEGER = { type: 'jaeger', uid: 'jaeger' } as const;

export interface PromTarget {
  readonly refId: string;
  readonly datasource: typeof PROMETHEUS;
  readonly expr: string;
  readonly legendFormat: string;
  readonly range: boolean;
  readonly instant: boolean;
  /** Ask Prometheus for exemplars (span metrics through the collector carry trace ids). */
  readonly exemplar: boolean;
}

export interface JaegerTarget {
  readonly refId: string;
  readonly datasource: typeof JAEGER;
  readonly queryType: 'search';
  readonly service: string;
  readonly minDuration: string;
  readonly limit: number;
}

export type Target = PromTarget | JaegerTarget;

export interface Threshold {
  readonly color: string;
  readonly value: number | null;
}

export interface ValueMapping {
  readonly type: 'value';
  readonly options: Record<string, { readonly text: string; readonly color: string; readonly index: number }>;
}

export interface DataLink {
  readonly title: string;
  readonly url: string;
  readonly targetBlank: boolean;
}

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Panel {
  id: number;
  type: 'timeseries' | 'stat' | 'state-timeline' | 'table' | 'row';
  title: string;
  description?: string;
  gridPos: GridPos;
  datasource?: typeof PROMETHEUS | typeof JAEGER;
  targets?: Target[];
  fieldConfig?: {
    defaults: Record<string, unknown>;
    overrides: unknown[];
  };
  options?: Record<string, unknown>;
  collapsed?: boolean;
  panels?: Panel[];
}

/** A PromQL query; `legend` is Grafana's legendFormat (`{{label}}`). */
export interface Query {
  readonly expr: string;
  readonly legend?: string;
  /** Request exemplars for this query. @default false */
  readonly exemplar?: boolean;
}

export interface PanelOptions {
  readonly title: string;
  readonly description: string;
  readonly queries: readonly Query[];
  /** Grafana unit id (`s`, `reqps`, `percentunit`, `bytes`, `currencyUSD`, `short`). @default 'short' */
  readonly unit?: string;
  /** Width in grid columns (of 24). @default 8 */
  readonly w?: number;
  /** Height in grid rows. @default 8 */
  readonly h?: number;
  /** Colour steps; the first has value null (the base). */
  readonly thresholds?: readonly Threshold[];
  readonly mappings?: readonly ValueMapping[];
  readonly min?: number;
  readonly max?: number;
  /** Stacked areas (timeseries only). @default false */
  readonly stack?: boolean;
  readonly links?: readonly DataLink[];
}

const refId = (index: number) => String.fromCharCode(65 + index);

function promTargets(queries: readonly Query[], instant: boolean): PromTarget[] {
  return queries.map((query, index) => ({
    refId: refId(index),
    datasource: PROMETHEUS,
    expr: query.expr,
    legendFormat: query.legend ?? '__auto',
    range: !instant,
    instant,
    exemplar: query.exemplar ?? false,
  }));
}

function fieldDefaults(options: PanelOptions, custom: Record<string, unknown>): Record<string, unknown> {
  const defaults: Record<string, unknown> = {
    unit: options.unit ?? 'short',
    color: { mode: options.thresholds ? 'thresholds' : 'palette-classic' },
    thresholds: {
      mode: 'absolute',
      steps: options.thresholds ?? [{ color: 'green', value: null }],
    },
    mappings: options.mappings ?? [],
    custom,
  };
  if (options.min !== undefined) defaults.min = options.min;
  if (options.max !== undefined) defaults.max = options.max;
  if (options.links) defaults.links = options.links;
  return defaults;
}

function base(type: Panel['type'], options: PanelOptions, w: number, h: number): Panel {
  return {
    id: 0,
    type,
    title: options.title,
    description: options.description,
    gridPos: { x: 0, y: 0, w, h },
    datasource: PROMETHEUS,
  };
}

/** A time series graph. */
export function timeseries(options: PanelOptions): Panel {
  return {
    ...base('timeseries', options, options.w ?? 8, options.h ?? 8),
    targets: promTargets(options.queries, false),
    fieldConfig: {
      defaults: fieldDefaults(options, {
        drawStyle: 'line',
        lineWidth: 1,
        fillOpacity: options.stack ? 40 : 10,
        showPoints: 'never',
        spanNulls: false,
        stacking: { mode: options.stack ? 'normal' : 'none', group: 'A' },
        thresholdsStyle: { mode: 'off' },
      }),
      overrides: [],
    },
    options: {
      legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
  };
}

/** A single big number coloured by its thresholds (the dashboards' health colours). */
export function stat(options: PanelOptions): Panel {
  return {
    ...base('stat', options, options.w ?? 4, options.h ?? 4),
    targets: promTargets(options.queries, false),
    fieldConfig: { defaults: fieldDefaults(options, {}), overrides: [] },
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: 'background',
      graphMode: 'area',
      justifyMode: 'auto',
      textMode: 'auto',
      orientation: 'auto',
    },
  };
}

/** One coloured band per series over time, for discrete states (breakers, store availability). */
export function stateTimeline(options: PanelOptions): Panel {
  return {
    ...base('state-timeline', options, options.w ?? 12, options.h ?? 8),
    targets: promTargets(options.queries, false),
    fieldConfig: {
      defaults: fieldDefaults(options, { fillOpacity: 80, lineWidth: 0 }),
      overrides: [],
    },
    options: {
      mergeValues: true,
      showValue: 'auto',
      alignValue: 'left',
      rowHeight: 0.9,
      legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
      tooltip: { mode: 'single', sort: 'none' },
    },
  };
}

/** Recent traces from Jaeger (search), newest first; each row links to its trace. */
export function jaegerSearch(options: {
  title: string;
  description: string;
  service: string;
  minDuration: string;
  w?: number;
  h?: number;
}): Panel {
  return {
    id: 0,
    type: 'table',
    title: options.title,
    description: options.description,
    gridPos: { x: 0, y: 0, w: options.w ?? 24, h: options.h ?? 8 },
    datasource: JAEGER,
    targets: [
      {
        refId: 'A',
        datasource: JAEGER,
        queryType: 'search',
        service: options.service,
        minDuration: options.minDuration,
        limit: 20,
      },
    ],
    fieldConfig: { defaults: {}, overrides: [] },
    options: { showHeader: true, cellHeight: 'sm' },
  };
}

/** A row header that groups the panels below it. */
export function row(title: string): Panel {
  return { id: 0, type: 'row', title, gridPos: { x: 0, y: 0, w: 24, h: 1 }, collapsed: false, panels: [] };
}

/** Health colours: green below `warn`, orange from `warn`, red from `bad`. */
export function lowerIsBetter(warn: number, bad: number): Threshold[] {
  return [
    { color: 'green', value: null },
    { color: 'orange', value: warn },
    { color: 'red', value: bad },
  ];
}

/** Health colours: red below `warn`, orange from `warn`, green from `good`. */
export function higherIsBetter(warn: number, good: number): Threshold[] {
  return [
    { color: 'red', value: null },
    { color: 'orange', value: warn },
    { color: 'green', value: good },
  ];
}

/** Value → text and colour, e.g. breaker states. */
export function valueMap(entries: Record<string, [text: string, color: string]>): ValueMapping {
  const options: ValueMapping['options'] = {};
  Object.entries(entries).forEach(([value, [text, color]], index) => {
    options[value] = { text, color, index };
  });
  return { type: 'value', options };
}

/** The cache hit-rate stat, as the overview and the cache dashboard both show it. */
export function hitRateStat(title: string): Panel {
  return stat({
    title,
    description:
      'Requests answered from the cache (hit, stale) among requests that looked in it (hit, stale, miss, coalesced, error); bypass (no-store) and routes without a cache are not lookups. /admin/stats reports the same.',
    queries: [{ expr: hitRatio() }],
    unit: 'percentunit',
    min: 0,
    max: 1,
    thresholds: higherIsBetter(0.1, 0.3),
  });
}
