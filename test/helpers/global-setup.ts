import { spawnSync } from 'node:child_process';

/** The programs the suite runs, each with the flag that proves it is installed, and its Debian package. */
export const TEST_TOOLS = [
  { command: 'redis-server', args: ['--version'], debian: 'redis-server' },
  { command: 'prometheus', args: ['--version'], debian: 'prometheus' },
  { command: 'promtool', args: ['--version'], debian: 'prometheus' },
] as const;

/** The tools that are not on PATH, with one line telling how to get them (empty: all present). */
export function missingTools(path: string | undefined = process.env.PATH): string | undefined {
  const missing = TEST_TOOLS.filter(
    ({ command, args }) =>
      spawnSync(command, args, { stdio: 'ignore', env: { ...process.env, PATH: path ?? '' } }).status !== 0,
  );
  if (missing.length === 0) return undefined;
  const packages = [...new Set(missing.map((tool) => tool.debian))].join(' ');
  return (
    `npm test needs ${missing.map((tool) => tool.command).join(', ')} on PATH: ` +
    `run \`sudo apt-get install -y ${packages}\` (Debian/Ubuntu), or \`bash .ci/run\`, which installs them and runs the tests`
  );
}

/** Fail once, up front, when a test prerequisite is missing, instead of a bare ENOENT in a few suites. */
export default function setup(): void {
  const problem = missingTools();
  if (problem) throw new Error(problem);
}
