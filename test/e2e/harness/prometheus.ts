/** One sample line of Prometheus text: metric name, labels, value. */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parse Prometheus text exposition (0.0.4) into samples; comments and blank lines are skipped. */
export function parsePrometheus(text: string): PromSample[] {
  const samples: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(LABEL)) labels[label[1]!] = label[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/**
 * Series count: distinct (metric family, label set) pairs, counting a histogram's buckets, sum and
 * count as one series, which is what a time-series database pays for per label combination.
 */
export function seriesCount(samples: readonly PromSample[]): number {
  const series = new Set<string>();
  for (const sample of samples) {
    const family = sample.name.replace(/_(bucket|sum|count)$/, '');
    const { le: _le, ...labels } = sample.labels;
    series.add(`${family}${JSON.stringify(Object.entries(labels).sort())}`);
  }
  return series.size;
}

/** Distinct values of one label across all samples. */
export function labelValues(samples: readonly PromSample[], label: string): Set<string> {
  return new Set(samples.flatMap((sample) => (label in sample.labels ? [sample.labels[label]!] : [])));
}

/** Sum of samples named `name` whose labels include `match`. */
export function sumOf(
  samples: readonly PromSample[],
  name: string,
  match: Record<string, string> = {},
): number {
  return samples
    .filter(
      (sample) =>
        sample.name === name && Object.entries(match).every(([key, value]) => sample.labels[key] === value),
    )
    .reduce((total, sample) => total + sample.value, 0);
}
