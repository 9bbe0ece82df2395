/**
 * Summarise a V8 CPU profile (from `npm run bench -- --cpu-prof`): where the server's CPU went, by
 * function (self time) and by source file, with the project's own files marked. This is how the hot
 * paths named in the README's performance notes were found.
 *
 * Usage: node bench/profile.ts <file.cpuprofile> [--top 25] [--filter text]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface HotSpot {
  readonly name: string;
  readonly where: string;
  readonly selfMs: number;
  readonly share: number;
}

function shortUrl(url: string): string {
  if (!url) return '(native)';
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules !== -1) return path.slice(modules + '/node_modules/'.length);
  const src = path.search(/\/(src|bench)\//);
  return src === -1 ? path : path.slice(src + 1);
}

/** Self time per function and per file, largest first. */
export function summarise(profile: CpuProfile): {
  byFunction: HotSpot[];
  byFile: HotSpot[];
  totalMs: number;
} {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0) || 1;
  const functions = new Map<string, { name: string; where: string; us: number }>();
  const files = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const file = shortUrl(frame.url);
    const where = frame.url ? `${file}:${frame.lineNumber + 1}` : file;
    const name = frame.functionName || '(anonymous)';
    const key = `${name}@${where}`;
    const entry = functions.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    functions.set(key, entry);
    const group = frame.url ? file : name;
    files.set(group, (files.get(group) ?? 0) + us);
  }
  const spot = (name: string, where: string, us: number): HotSpot => ({
    name,
    where,
    selfMs: Math.round(us / 100) / 10,
    share: us / totalUs,
  });
  return {
    totalMs: Math.round(totalUs / 1000),
    byFunction: [...functions.values()].sort((a, b) => b.us - a.us).map((f) => spot(f.name, f.where, f.us)),
    byFile: [...files.entries()].sort((a, b) => b[1] - a[1]).map(([file, us]) => spot(file, file, us)),
  };
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a));
  const top = Number(args[args.indexOf('--top') + 1]) || 25;
  const filterAt = args.indexOf('--filter');
  const filter = filterAt === -1 ? undefined : args[filterAt + 1];
  if (!file) {
    process.stderr.write('usage: node bench/profile.ts <file.cpuprofile> [--top 25] [--filter text]\n');
    process.exit(2);
  }
  const { byFunction, byFile, totalMs } = summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  const pct = (share: number) => `${(share * 100).toFixed(1).padStart(5)}%`;
  const mine = (where: string) => (/^(src|bench)\//.test(where) ? '*' : ' ');
  process.stdout.write(`${file}: ${totalMs} ms sampled (* = this project's code)\n\nself time by function\n`);
  for (const f of byFunction.filter((f) => !filter || f.where.includes(filter)).slice(0, top)) {
    process.stdout.write(`${pct(f.share)} ${mine(f.where)} ${f.name}  ${f.where}\n`);
  }
  process.stdout.write('\nself time by file\n');
  for (const f of byFile.filter((f) => !filter || f.where.includes(filter)).slice(0, top)) {
    process.stdout.write(`${pct(f.share)} ${mine(f.where)} ${f.where}\n`);
  }
}
