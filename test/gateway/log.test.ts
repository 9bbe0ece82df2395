import { afterEach, describe, expect, it } from 'vitest';
import { registerSecrets } from '../../src/core/redact.ts';
import { createLogger } from '../../src/gateway/log.ts';

const forgets: (() => void)[] = [];
afterEach(() => {
  for (const forget of forgets.splice(0)) forget();
});

describe('gateway logger', () => {
  it.each(['text', 'json'] as const)('masks registered secrets and key shapes in %s lines', (format) => {
    forgets.push(registerSecrets(['provider-secret-4242']));
    const lines: string[] = [];
    const log = createLogger({ format, write: (line) => lines.push(line) });
    log.error('upstream said provider-secret-4242', {
      message: 'Incorrect API key provided: sk-proj-0123456789abcdef',
      redis: 'redis://app:p@ss-word@cache:6379',
      status: 401,
    });
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line).not.toContain('provider-secret-4242');
    expect(line).not.toContain('sk-proj-0123456789abcdef');
    expect(line).not.toContain('ss-word');
    expect(line).toContain('upstream said ***');
    expect(line).toContain('redis://app:***@cache:6379');
    expect(line).toContain('401');
  });
});
