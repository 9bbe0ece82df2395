/** Render `/admin/stats` as a readable report (the `stats` command without `--json`). */

type Json = Record<string, unknown>;

function obj(value: unknown): Json {
  return typeof value === 'object' && value !== null ? (value as Json) : {};
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function ms(value: unknown): string {
  const n = num(value);
  if (n === undefined) return '-';
  return n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${n.toFixed(n < 10 ? 2 : 1)} ms`;
}

function pct(value: unknown): string {
  const n = num(value);
  return n === undefined ? '-' : `${(n * 100).toFixed(1)}%`;
}

function int(value: unknown): string {
  const n = num(value);
  return n === undefined ? '0' : Math.round(n).toLocaleString('en-US');
}

function usd(value: unknown): string {
  const n = num(value) ?? 0;
  return `$${n < 1 ? n.toFixed(6) : n.toFixed(2)}`;
}

/** Aligned two-or-more-column rows under a title. */
export function table(
  title: string,
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [title, line(header), rule, ...(rows.length > 0 ? rows.map(line) : ['(none)'])].join('\n');
}

export function formatStats(stats: unknown, url: string): string {
  const s = obj(stats);
  const gateway = obj(s.gateway);
  const requests = obj(s.requests);
  const latency = obj(s.latency);
  const cache = obj(s.cache);
  const upstream = obj(s.upstream);
  const rateLimit = obj(s.rateLimit);
  const cost = obj(s.cost);
  const store = obj(s.store);
  const limiter = obj(s.limiter);
  const out: string[] = [];
  out.push(
    `alchemist-perf ${String(gateway.version ?? '')} at ${url}: ${String(gateway.status ?? 'unknown')}, up ${int(gateway.uptime_seconds)} s` +
      (gateway.simulated_provider ? '  [SIMULATED PROVIDER]' : ''),
  );
  if (typeof s.metrics_error === 'string') out.push(`note: ${s.metrics_error}`);
  out.push('');
  const byOutcome = obj(requests.byOutcome);
  out.push(
    table(
      'Requests',
      ['metric', 'value'],
      [
        ['total', int(requests.total)],
        ['in flight', int(requests.active)],
        ...Object.entries(byOutcome).map(([outcome, count]) => [`  ${outcome}`, int(count)]),
      ],
    ),
  );
  out.push('');
  const byCacheResult = obj(latency.byCacheResult);
  const latencyRow = (name: string, l: Json) => [name, int(l.count), ms(l.p50Ms), ms(l.p95Ms), ms(l.p99Ms)];
  out.push(
    table(
      'Latency',
      ['', 'count', 'p50', 'p95', 'p99'],
      [
        latencyRow('all requests', latency),
        ...Object.entries(byCacheResult).map(([result, l]) => latencyRow(`  cache ${result}`, obj(l))),
        latencyRow('upstream attempts', obj(upstream.latency)),
      ],
    ),
  );
  out.push('');
  const cacheByResult = obj(cache.byResult);
  out.push(
    table(
      'Cache',
      ['metric', 'value'],
      [
        ['hit rate', pct(cache.hitRate)],
        ['lookups', int(cache.lookups)],
        ...Object.entries(cacheByResult).map(([result, count]) => [`  ${result}`, int(count)]),
        ['tokens saved', int(cache.tokensSaved)],
        ['cost saved', usd(cache.costSavedUsd)],
      ],
    ),
  );
  out.push('');
  const rejections = obj(rateLimit.rejectionsByTier);
  const byResult = obj(rateLimit.byResult);
  out.push(
    table(
      `Limits (mode ${String(limiter.mode ?? '?')}${limiter.degraded ? ', DEGRADED' : ''})`,
      ['tier', 'scope', 'rejected'],
      Object.entries(rejections).flatMap(([tier, scopes]) =>
        Object.entries(obj(scopes)).map(([scope, count]) => [tier, scope, int(count)]),
      ),
    ),
  );
  if (Object.keys(byResult).length > 0) {
    out.push(
      `decisions: ${Object.entries(byResult)
        .map(([result, count]) => `${result} ${int(count)}`)
        .join(', ')}`,
    );
  }
  out.push('');
  out.push(
    table(
      'Breakers',
      ['name', 'state'],
      Object.entries(obj(s.breakers)).map(([name, state]) => [name, String(state).toUpperCase()]),
    ),
  );
  out.push('');
  out.push(
    table(
      'Upstream',
      ['metric', 'value'],
      [
        ['calls', int(upstream.calls)],
        ['errors', int(upstream.errors)],
        ['retries', int(upstream.retries)],
        ['fallbacks', int(upstream.fallbacks)],
        ['input tokens', int(upstream.inputTokens)],
        ['output tokens', int(upstream.outputTokens)],
        ['cost', usd(cost.totalUsd)],
        ['store (redis)', String(store.redis ?? '-')],
      ],
    ),
  );
  return out.join('\n');
}

/** Render `/admin/budgets` as a table (the `budgets` command without `--json`). */
export function formatBudgets(budgets: unknown, url: string): string {
  const rows = (Array.isArray(obj(budgets).budgets) ? (obj(budgets).budgets as unknown[]) : []).map(
    (entry) => {
      const b = obj(entry);
      const budget = num(b.budget_usd) ?? 0;
      const spent = num(b.spent_usd) ?? 0;
      return [
        String(b.tenant ?? '-'),
        String(b.tier ?? '-'),
        usd(b.budget_usd),
        usd(b.spent_usd),
        budget > 0 ? pct(spent / budget) : spent > 0 ? '100.0%' : '-',
        String(b.period ?? '-'),
        String(b.resets_at ?? '-'),
      ];
    },
  );
  const mode = obj(budgets).mode;
  return `${table(
    `Budgets at ${url}${mode ? ` (${String(mode)})` : ''}`,
    ['tenant', 'tier', 'budget', 'spent', 'used', 'period', 'resets at (UTC)'],
    rows,
  )}`;
}
