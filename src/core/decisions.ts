import type { Decisions } from './context.ts';

/** `Server-Timing` (W3C Server Timing) from every policy's entries so far. */
export function serverTimingHeader(decisions: Decisions): string | undefined {
  if (decisions.serverTiming.length === 0) return undefined;
  let header = '';
  for (const entry of decisions.serverTiming) {
    if (header) header += ', ';
    header += `${entry.name};dur=${entry.durationMs.toFixed(2)}`;
    if (entry.description) header += `;desc="${entry.description.replace(/["\\]/g, '')}"`;
  }
  return header;
}

/**
 * The response headers the policies decided: theirs (`RateLimit-Policy` / `RateLimit`, ...), the
 * cache's `Cache-Status` (RFC 9211) and `Server-Timing`. One place turns decisions into headers, for
 * answers and errors alike.
 */
export function decisionHeaders(decisions: Decisions): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name in decisions.headers) headers[name] = decisions.headers[name]!;
  if (decisions.cacheStatus) headers['cache-status'] = decisions.cacheStatus;
  const timing = serverTimingHeader(decisions);
  if (timing) headers['server-timing'] = timing;
  return headers;
}
