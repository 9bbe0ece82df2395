/** Command-line options of `npm run bench` / `alchemist-perf bench`. */
export interface BenchArgs {
  readonly mode: 'quick' | 'default' | 'full';
  /** Run only these scenarios (`--scenario id`, repeatable, or comma-separated). */
  readonly scenarios: readonly string[];
  /** Run (or `--list`) the opt-in scenarios too (`--all`). */
  readonly all: boolean;
  /** Where to write the JSON. @default '.bench-results/latest.json' */
  readonly out: string;
  /** Write V8 CPU profiles of the systems under test (`--cpu-prof [dir]`). */
  readonly cpuProfileDir?: string;
  /** Skip the in-process micro-benchmarks (rate limiter ns/op). */
  readonly noMicro: boolean;
  /** No live progress line. */
  readonly quiet: boolean;
  readonly help: boolean;
}

export const USAGE = `Usage: npm run bench -- [options]   (or: alchemist-perf bench [options])

  (default)            3 interleaved rounds of 1 s per system, medians reported (~3 min)
  --quick              1 round of 1 s per system (smoke test)
  --full               5 interleaved rounds of 4 s per system (stress run, ~10 min)
  --scenario <id>      run one scenario (repeatable, or a comma-separated list); --list shows ids;
                       opt-in ones run only when named or with --all:
                         alloc   bytes allocated per request, pack / bare (bench/alloc.ts)
                         peers   beside Portkey's gateway (installed from npm into .bench-results/peers)
  --all                the default scenarios and the opt-in ones
  --out <file>         JSON output (default .bench-results/latest.json)
  --cpu-prof [dir]     V8 CPU profile of every measured window (default .bench-results/profiles);
                       summarise one with: node bench/profile.ts <file> [--filter src/] [--callers fn]
  --no-micro           skip the in-process micro-benchmarks
  --quiet              no live progress line
  --list               list the default scenarios and exit (with --all: the opt-in ones too)
`;

/** Parse argv (without node and the script); throws on an unknown option, naming it. */
export function parseArgs(argv: readonly string[]): BenchArgs & { readonly list: boolean } {
  let mode: BenchArgs['mode'] = 'default';
  const scenarios: string[] = [];
  let out = '.bench-results/latest.json';
  let cpuProfileDir: string | undefined;
  let noMicro = false;
  let quiet = false;
  let help = false;
  let list = false;
  let all = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const value = () => {
      const next = argv[++i];
      if (next === undefined || next.startsWith('--')) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--quick') mode = 'quick';
    else if (arg === '--full') mode = 'full';
    else if (arg === '--scenario') scenarios.push(...value().split(','));
    else if (arg.startsWith('--scenario=')) scenarios.push(...arg.slice(11).split(','));
    else if (arg === '--out') out = value();
    else if (arg === '--cpu-prof') {
      const next = argv[i + 1];
      cpuProfileDir =
        next !== undefined && !next.startsWith('--') ? (argv[++i] as string) : '.bench-results/profiles';
    } else if (arg === '--no-micro') noMicro = true;
    else if (arg === '--quiet') quiet = true;
    else if (arg === '--list') list = true;
    else if (arg === '--all') all = true;
    else if (arg === '--help' || arg === '-h') help = true;
    else throw new Error(`unknown option ${JSON.stringify(arg)}\n\n${USAGE}`);
  }
  return {
    mode,
    scenarios: scenarios.map((s) => s.trim()).filter(Boolean),
    all,
    out,
    noMicro,
    quiet,
    help,
    list,
    ...(cpuProfileDir === undefined ? {} : { cpuProfileDir }),
  };
}
