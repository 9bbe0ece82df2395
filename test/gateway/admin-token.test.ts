import { chownSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  localTokenPath,
  readLocalToken,
  removeLocalToken,
  writeLocalToken,
} from '../../src/gateway/admin-token.ts';

// localTokenPath() follows os.tmpdir(), which reads TMPDIR: each test gets its own temp root.
let root: string;
let savedTmpdir: string | undefined;
beforeEach(() => {
  savedTmpdir = process.env.TMPDIR;
  root = mkdtempSync(join(tmpdir(), 'alchemist-token-'));
  process.env.TMPDIR = root;
});
afterEach(() => {
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
  rmSync(root, { recursive: true, force: true });
});

describe('local admin token file', () => {
  it('is private: a 0600 file in a 0700 directory of this user, readable back, removed at stop', () => {
    const { token, path } = writeLocalToken(4321);
    expect(path).toBe(localTokenPath(4321));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
    expect(readLocalToken(4321)).toBe(token);
    removeLocalToken(4321);
    expect(readLocalToken(4321)).toBeUndefined();
  });

  it.skipIf(userInfo().uid !== 0)(
    'refuses a directory another user owns (the gateway then keeps admin off)',
    () => {
      const dir = join(localTokenPath(4322), '..');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chownSync(dir, 65534, 65534);
      expect(() => writeLocalToken(4322)).toThrow(/not owned by this user/);
    },
  );
});
