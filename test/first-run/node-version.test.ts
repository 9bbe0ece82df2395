import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript without declarations: the bin must parse on any Node.
import { nodeVersionProblem } from '../../bin/node-version.js';

const BIN = join(import.meta.dirname, '../../bin/alchemist-perf.js');
const check = nodeVersionProblem as (
  version: string,
  fromSource: boolean,
  execPath: string,
) => string | undefined;

/** The system `node` when it is older than the CLI needs (this machine's is Node 20), else undefined. */
function oldSystemNode(): string | undefined {
  try {
    const version = execFileSync('/usr/bin/node', ['--version'], { encoding: 'utf8' }).trim();
    return Number(version.slice(1).split('.')[0]) < 22 ? '/usr/bin/node' : undefined;
  } catch {
    return undefined;
  }
}

/** Issue 17 item 4: an old Node gets one line naming the Node needed and how to get it, not a stack. */
describe('the bin on an old Node', () => {
  it('names the version needed for the source and the build, and how to get it', () => {
    expect(check('20.20.2', true, '/usr/bin/node')).toBe(
      'alchemist-perf needs Node >= 22.18 to run its TypeScript source, and this is Node 20.20.2 (/usr/bin/node): ' +
        'in this clone run `npx alchemist-perf` (or `npm start`), which use the Node 24 `npm install` put in node_modules/.bin, or install Node 24',
    );
    expect(check('22.16.0', false, '/opt/node')).toBe(undefined);
    expect(check('22.14.0', false, '/opt/node')).toBe(
      'alchemist-perf needs Node >= 22.15, and this is Node 22.14.0 (/opt/node): install Node 24 (https://nodejs.org, or `nvm install 24`)',
    );
    expect(check('22.17.1', true, '/opt/node')).toMatch(/^alchemist-perf needs Node >= 22\.18 /);
    expect(check('22.18.0', true, '/opt/node')).toBe(undefined);
    expect(check('24.21.0', true, '/opt/node')).toBe(undefined);
  });

  it.skipIf(oldSystemNode() === undefined)(
    '`node bin/alchemist-perf.js stats` on the system Node prints that one line',
    () => {
      const run = spawnSync(oldSystemNode()!, [BIN, 'stats'], { encoding: 'utf8' });
      expect(run.status).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(
        /^alchemist-perf needs Node >= 22\.18 to run its TypeScript source, and this is Node 20\.[\d.]+ \(\/usr\/bin\/node\): .+\n$/,
      );
      expect(run.stderr.split('\n')).toHaveLength(2);
    },
  );
});
