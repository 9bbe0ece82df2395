/**
 * A Redis URL safe to log or show: the password (and a username-only secret) replaced by `***`.
 * Returns a placeholder for a string that is not a URL rather than echoing it.
 */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    else if (parsed.username) parsed.username = '***';
    return parsed.toString();
  } catch {
    return '<invalid redis url>';
  }
}
