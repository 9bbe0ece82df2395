/**
 * Summarise a V8 CPU profile (from `npm run bench -- --cpu-prof`): where the server's CPU went, by
 * function (self time) and by source file, with the project's own files marked. This is how the hot
 * paths named in the README's performance notes were found.
 *
 * Usage: node bench/profile.ts <file.cpuprofile> [--top 25] [--filter text] [--callers functionName]
 * Shares are of busy time (idle samples left out).
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

/** A frame's file as the reports show it: package path, or the project's `src/`/`bench/` path. */
export function shortUrl(url: string): string {
  if (!url) return '(native)';
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules !== -1) return path.slice(modules + '/node_modules/'.length);
  const src = path.search(/\/(src|bench)\//);
  return src === -1 ? path : path.slice(src + 1);
}

/**
 * Samples left out: idle, and the inspector call that stops the profiler at the end of the window
 * (its serialisation is sampled too, but is the harness's cost, not the server's).
 */
function excluded(profile: CpuProfile): Set<number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const out = new Set<number>();
  const mark = (id: number) => {
    if (out.has(id)) return;
    out.add(id);
    for (const child of byId.get(id)?.children ?? []) mark(child);
  };
  for (const node of profile.nodes) {
    if (node.callFrame.functionName === '(idle)' || node.callFrame.url === 'node:inspector') mark(node.id);
  }
  return out;
}

function selfTimes(profile: CpuProfile): Map<number, number> {
  const idle = excluded(profile);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    if (!idle.has(id)) selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return selfUs;
}

/**
 * Who calls `functionName`: its self time attributed to the nearest caller frames with a source
 * location, up to `depth` levels (e.g. which code makes the native `writeUtf8String` hot).
 */
export function callers(profile: CpuProfile, functionName: string, depth = 3): HotSpot[] {
  const parent = new Map<number, ProfileNode>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = selfTimes(profile);
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0) || 1;
  const stacks = new Map<string, number>();
  for (const [id, us] of selfUs) {
    if (byId.get(id)?.callFrame.functionName !== functionName) continue;
    const chain: string[] = [];
    let node = parent.get(id);
    while (node && chain.length < depth) {
      const { functionName: name, url, lineNumber } = node.callFrame;
      if (url) chain.push(`${name || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`);
      node = parent.get(node.id);
    }
    const key = chain.join(' < ') || '(no JS caller)';
    stacks.set(key, (stacks.get(key) ?? 0) + us);
  }
  return [...stacks.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([where, us]) => ({
      name: functionName,
      where,
      selfMs: Math.round(us / 100) / 10,
      share: us / totalUs,
    }));
}

/**
 * The area a file belongs to: this project's folder (`src/cache`), an npm package (`@opentelemetry/*`
 * grouped as one), Node's own internals, or a native bucket (GC, `writeUtf8String` = socket writes).
 */
export function areaOf(url: string, functionName: string): string {
  if (!url) return functionName === 'writeUtf8String' ? 'socket writes (native)' : `${functionName} (native)`;
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const rest = path.slice(modules + '/node_modules/'.length).split('/');
    if (rest[0] === '@opentelemetry') return '@opentelemetry/*';
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? path);
  }
  if (path.startsWith('node:')) return 'node internals';
  const own = /\/(src|bench)\/([^/]+)\//.exec(path);
  return own ? `${own[1]}/${own[2]}` : path;
}

/** Self time per function and per file over busy samples (idle left out), largest first. */
export function summarise(profile: CpuProfile): {
  byFunction: HotSpot[];
  byFile: HotSpot[];
  byArea: HotSpot[];
  /** Areas with Node internals and natives charged to the nearest package or project caller. */
  byCaller: HotSpot[];
  totalMs: number;
} {
  const parent = new Map<number, ProfileNode>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
  const owners = new Map<string, number>();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = selfTimes(profile);
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0) || 1;
  const functions = new Map<string, { name: string; where: string; us: number }>();
  const files = new Map<string, number>();
  const areas = new Map<string, number>();
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
    const area = areaOf(frame.url, frame.functionName);
    areas.set(area, (areas.get(area) ?? 0) + us);
    let owner: ProfileNode | undefined = byId.get(id);
    while (owner && /internals|native/.test(areaOf(owner.callFrame.url, owner.callFrame.functionName))) {
      owner = parent.get(owner.id);
    }
    const ownerArea = owner ? areaOf(owner.callFrame.url, owner.callFrame.functionName) : area;
    owners.set(ownerArea, (owners.get(ownerArea) ?? 0) + us);
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
    byArea: [...areas.entries()].sort((a, b) => b[1] - a[1]).map(([area, us]) => spot(area, area, us)),
    byCaller: [...owners.entries()].sort((a, b) => b[1] - a[1]).map(([area, us]) => spot(area, area, us)),
  };
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a));
  const top = Number(args[args.indexOf('--top') + 1]) || 25;
  const filterAt = args.indexOf('--filter');
  const filter = filterAt === -1 ? undefined : args[filterAt + 1];
  const callersAt = args.indexOf('--callers');
  const callersOf = callersAt === -1 ? undefined : args[callersAt + 1];
  if (!file) {
    process.stderr.write('usage: node bench/profile.ts <file.cpuprofile> [--top 25] [--filter text]\n');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const { byFunction, byFile, byArea, byCaller, totalMs } = summarise(profile);
  const pct = (share: number) => `${(share * 100).toFixed(1).padStart(5)}%`;
  const mine = (where: string) => (/^(src|bench)\//.test(where) ? '*' : ' ');
  const pctOf = (share: number) => `${(share * 100).toFixed(1).padStart(5)}%`;
  if (callersOf) {
    process.stdout.write(`callers of ${callersOf} (share of busy time)\n`);
    for (const c of callers(profile, callersOf, 9).slice(0, top))
      process.stdout.write(`${pctOf(c.share)} ${c.where}\n`);
    process.exit(0);
  }
  process.stdout.write(
    `${file}: ${totalMs} ms busy (idle left out; * = this project's code)\n\nself time by function\n`,
  );
  for (const f of byFunction.filter((f) => !filter || f.where.includes(filter)).slice(0, top)) {
    process.stdout.write(`${pct(f.share)} ${mine(f.where)} ${f.name}  ${f.where}\n`);
  }
  process.stdout.write('\nself time by area\n');
  for (const a of byArea.slice(0, top)) process.stdout.write(`${pct(a.share)} ${mine(a.where)} ${a.where}\n`);
  process.stdout.write('\nby area, Node internals charged to their caller\n');
  for (const a of byCaller.slice(0, top))
    process.stdout.write(`${pct(a.share)} ${mine(a.where)} ${a.where}\n`);
  process.stdout.write('\nself time by file\n');
  for (const f of byFile.filter((f) => !filter || f.where.includes(filter)).slice(0, top)) {
    process.stdout.write(`${pct(f.share)} ${mine(f.where)} ${f.where}\n`);
  }
}
