import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/**
 * Where a gateway on a loopback port keeps its generated admin token: a per-user directory (mode
 * 0700) in the OS temp dir, one file (mode 0600) per port. The CLI reads it when no token is given,
 * so `npm start` + `npx alchemist-perf stats` works without ADMIN_TOKEN, and the token never
 * appears in a log line.
 */
export function localTokenPath(port: number): string {
  return join(tmpdir(), `alchemist-perf-${userInfo().uid}`, `admin-${port}.token`);
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}

/** Create a random token and write it for `port`; returns the token and its file. */
export function writeLocalToken(port: number): { token: string; path: string } {
  const path = localTokenPath(port);
  const dir = join(path, '..');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stats = statSync(dir);
  // Refuse a directory someone else owns or can read: the token would not be private.
  if (stats.uid !== userInfo().uid || (stats.mode & 0o077) !== 0) chmodSync(dir, 0o700);
  if (statSync(dir).uid !== userInfo().uid) throw new Error(`${dir} is not owned by this user`);
  const token = randomBytes(24).toString('base64url');
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  return { token, path };
}

export function readLocalToken(port: number): string | undefined {
  try {
    return readFileSync(localTokenPath(port), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export function removeLocalToken(port: number): void {
  rmSync(localTokenPath(port), { force: true });
}
