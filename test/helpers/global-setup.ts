import { execFileSync } from 'node:child_process';

/** Fail early and clearly when a test prerequisite is missing, instead of 40 confusing failures. */
export default function setup(): void {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('redis-server is not installed: run `apt-get install -y redis-server` (or bash .ci/run)');
  }
}
