import { mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingTools } from '../helpers/global-setup.ts';

/** Issue 17 item 5: a missing test tool fails once, up front, with the line that installs it. */
describe('test prerequisites', () => {
  const bin = mkdtempSync(join(tmpdir(), 'alchemist-tools-'));
  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  it('are all present on this machine', () => {
    expect(missingTools()).toBeUndefined();
  });

  it('name every missing tool and one install line for their packages', () => {
    expect(missingTools(bin)).toBe(
      'npm test needs redis-server, prometheus, promtool on PATH: run `sudo apt-get install -y redis-server prometheus` (Debian/Ubuntu), or `bash .ci/run`, which installs them and runs the tests',
    );
  });

  it('name promtool alone when only it is missing (the case the old setup let through)', () => {
    const which = (command: string) =>
      (process.env.PATH ?? '')
        .split(':')
        .map((dir) => join(dir, command))
        .find((file) => {
          try {
            return statSync(file).isFile();
          } catch {
            return false;
          }
        });
    for (const command of ['redis-server', 'prometheus']) symlinkSync(which(command)!, join(bin, command));
    expect(missingTools(bin)).toMatch(
      /^npm test needs promtool on PATH: run `sudo apt-get install -y prometheus`/,
    );
  });
});
