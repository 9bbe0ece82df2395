/**
 * Cost of one token estimate (`estimateInputTokens()`, what a token-limited request runs on the event
 * loop before it is admitted) for prompts of 1 KiB … 1 MiB and hostile shapes, all in one run:
 * microseconds per KiB (the fastest of several fresh inputs: on a shared machine, preemption only ever
 * adds time) and the longest single estimate at 1 MiB, which is the event-loop block. Flat or falling µs/KiB means linear and bounded. Each input is fresh (random
 * text, or normal text at a random offset), as a client varying its prompts would send.
 *
 *   node bench/tokens.ts            # BENCH_TOKENS_REPS=7 fresh inputs per cell
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { estimateInputTokens, loadTokenizer } from '../src/ratelimit/tokens.ts';
import { codePoints, seededRandom, randomText as textOf } from './text.ts';

setFlagsFromString('--expose-gc');
/** A full collection before each timed estimate, so building the last 1 MiB input is not timed. */
const gc = runInNewContext('gc') as () => void;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REPS = Number(process.env.BENCH_TOKENS_REPS ?? 7);
const SIZES_KIB = [1, 4, 16, 64, 256, 1024];

const random = seededRandom(42);
const randomText = (length: number, alphabet: readonly string[]) => textOf(length, alphabet, random);
const range = codePoints;

/** Normal text: this repository's README and TypeScript sources (~1 MB), read at a random offset. */
const corpus = [
  readFileSync(join(ROOT, 'README.md'), 'utf8'),
  ...readdirSync(join(ROOT, 'src'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => readFileSync(join(entry.parentPath, entry.name), 'utf8')),
].join('\n');
function normalText(length: number): string {
  const doubled = corpus.length >= length ? corpus : corpus.repeat(Math.ceil(length / corpus.length) + 1);
  const start = Math.floor(random() * (doubled.length - length));
  return doubled.slice(start, start + length);
}

const user = (content: unknown) => ({ model: 'gpt-x', messages: [{ role: 'user', content }] });
/** Request shapes: each call builds a fresh one (`chars` UTF-16 units of text), so no cache helps. */
const SHAPES: Record<string, (chars: number) => Record<string, unknown>> = {
  'normal text (README + src)': (n) => user(normalText(n)),
  'one word, one letter': (n) => user(String.fromCharCode(65 + Math.floor(random() * 26)).repeat(n)),
  'one word, random letters': (n) => user(randomText(n, range(97, 26))),
  'CJK, no spaces': (n) => user(randomText(n, range(0x4e00, 20_000))),
  'emoji, no spaces': (n) => user(randomText(n, range(0x1f300, 700))),
  'one whitespace run': (n) => user(' '.repeat(n - 1) + 'x'),
  'many tiny words': (n) => user(randomText(n, ['a ', 'b ', 'c ', 'I ', '. '])),
  'content parts of 256 chars': (n) =>
    user(
      Array.from({ length: Math.ceil(n / 256) }, () => ({
        type: 'text',
        text: randomText(256, range(97, 26)),
      })),
    ),
  'many 32-char messages': (n) => ({
    model: 'gpt-x',
    messages: Array.from({ length: Math.ceil(n / 32) }, () => ({ role: 'user', content: normalText(32) })),
  }),
};

export interface TokenBenchRow {
  readonly shape: string;
  /** µs per KiB of text (fastest fresh input), by size in KiB. */
  readonly usPerKib: Record<number, number>;
  /** Longest single estimate at 1 MiB, ms (the event-loop block). */
  readonly maxMsAt1MiB: number;
}

/** µs/KiB for every shape and size, measured in this one run. */
export async function benchTokenEstimation(): Promise<TokenBenchRow[]> {
  await loadTokenizer();
  for (const build of Object.values(SHAPES)) estimateInputTokens(build(4096)); // JIT warm-up
  const rows: TokenBenchRow[] = [];
  for (const [shape, build] of Object.entries(SHAPES)) {
    const usPerKib: Record<number, number> = {};
    let maxMsAt1MiB = 0;
    for (const kib of SIZES_KIB) {
      const times: number[] = [];
      for (let rep = 0; rep < REPS; rep++) {
        // As the gateway gets it: parsed from a body (flat strings, none shared with the builder's).
        const request = JSON.parse(JSON.stringify(build(kib * 1024))) as Record<string, unknown>;
        gc();
        const started = performance.now();
        estimateInputTokens(request);
        times.push(performance.now() - started);
      }
      usPerKib[kib] = Math.round((Math.min(...times) * 1000) / kib);
      if (kib === 1024) maxMsAt1MiB = Math.max(...times);
    }
    rows.push({ shape, usPerKib, maxMsAt1MiB: Math.round(maxMsAt1MiB * 10) / 10 });
  }
  return rows;
}

if (import.meta.main) {
  const rows = await benchTokenEstimation();
  const width = Math.max(...rows.map((r) => r.shape.length));
  const head = SIZES_KIB.map((kib) => (kib < 1024 ? `${kib} KiB` : '1 MiB').padStart(8)).join('');
  process.stdout.write(`${'µs per KiB'.padEnd(width)}${head}   longest at 1 MiB\n`);
  for (const row of rows) {
    const cells = SIZES_KIB.map((kib) => String(row.usPerKib[kib]).padStart(8)).join('');
    process.stdout.write(`${row.shape.padEnd(width)}${cells}   ${row.maxMsAt1MiB} ms\n`);
  }
}
