/**
 * The one scrubber for text that leaves the process: error bodies sent to clients (JSON and SSE
 * error events), log lines, config errors, URLs shown by the admin API. It masks the secret values
 * the process registered (provider keys, client keys, the admin token, Redis passwords) and anything
 * shaped like a credential, because providers echo what they were sent ("Incorrect API key
 * provided: sk-…") and a key that was never registered must not get through either.
 */

const MASK = '***';
const HIDDEN_URL = '<redacted url>';

/** Registered values are matched only from this length: a short one would mask ordinary words. */
const MIN_SECRET_LENGTH = 6;

/** Registered secret values, counted per registration (two gateways in one process share the table). */
const known = new Map<string, number>();
let knownPattern: RegExp | undefined;
/** Length of the longest registered form: the most a secret cut in two can leave unmasked. */
let longestKnown = 0;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The forms a secret takes once serialized: as is, percent-encoded, JSON-escaped. */
function forms(secret: string): string[] {
  return [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)];
}

function rebuild(): void {
  const all = new Set<string>();
  for (const secret of known.keys()) for (const form of forms(secret)) all.add(form);
  // Longest first, so a secret that contains another is masked whole.
  const sorted = [...all].sort((a, b) => b.length - a.length);
  longestKnown = sorted[0]?.length ?? 0;
  const alternatives = sorted.map(escapeRegExp);
  knownPattern = alternatives.length === 0 ? undefined : new RegExp(alternatives.join('|'), 'g');
}

/**
 * Remember secret values that must never leave the process; `redactText` masks them from then on.
 * Values shorter than 6 characters, empty or undefined are skipped (shape rules still apply to them).
 * Returns a function that forgets these registrations (call it when the owner stops).
 *
 * @example
 * const forget = registerSecrets([process.env.OPENAI_API_KEY]);
 * process.on('exit', forget);
 */
export function registerSecrets(values: Iterable<string | undefined>): () => void {
  const added = [...new Set(values)].filter(
    (value): value is string => typeof value === 'string' && value.length >= MIN_SECRET_LENGTH,
  );
  for (const value of added) known.set(value, (known.get(value) ?? 0) + 1);
  if (added.length > 0) rebuild();
  let forgotten = false;
  return () => {
    if (forgotten) return;
    forgotten = true;
    for (const value of added) {
      const count = (known.get(value) ?? 1) - 1;
      if (count <= 0) known.delete(value);
      else known.set(value, count);
    }
    if (added.length > 0) rebuild();
  };
}

/**
 * The password of a URL, raw and decoded, for `registerSecrets()`. A username standing alone is
 * masked in URLs but not registered: it is usually an ACL name (`default`) that would mask a word.
 */
export function urlSecrets(url: string | undefined): string[] {
  if (url === undefined) return [];
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [];
  }
  const secret = parsed.password;
  if (!secret) return [];
  let decoded = secret;
  try {
    decoded = decodeURIComponent(secret);
  } catch {
    // a malformed escape: the raw form is what is there
  }
  return [...new Set([secret, decoded])];
}

/** Query parameters whose values are credentials (`?key=` is how Google-style APIs take keys). */
const SECRET_PARAM =
  /^(?:api[-_]?key|key|access[-_]?token|token|auth|authorization|password|passwd|pwd|secret|sig|signature|x-api-key)$/i;

/**
 * A URL safe to log or show: the password (or a username standing alone) and credential query
 * parameters become `***`. A URL that does not parse, or whose query or fragment holds an `@` (a
 * password with an unescaped `?` or `#` makes the parser put part of it there), is hidden whole. A
 * URL with nothing to mask comes back exactly as given.
 *
 * @example
 * redactUrl('redis://app:p@ss@cache:6379/0'); // 'redis://app:***@cache:6379/0'
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return HIDDEN_URL;
  }
  if (parsed.search.includes('@') || parsed.hash.includes('@')) return HIDDEN_URL;
  let changed = false;
  if (parsed.password) {
    parsed.password = MASK;
    changed = true;
  } else if (parsed.username) {
    parsed.username = MASK;
    changed = true;
  }
  for (const name of [...parsed.searchParams.keys()]) {
    if (SECRET_PARAM.test(name)) {
      parsed.searchParams.set(name, MASK);
      changed = true;
    }
  }
  return changed ? parsed.toString().replaceAll('%2A%2A%2A', MASK) : url;
}

// Every pattern below starts only where its run of characters starts (a lookbehind or a literal), so
// scrubbing is linear in the text: provider bodies and client input are untrusted.

/** A `scheme://…` run inside free text (stops at whitespace, quotes and brackets). */
const URL_IN_TEXT = /(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;
/** A header echoed with its value: `x-api-key: abc`, `"authorization":"Bearer abc"`. */
const HEADER_ECHO =
  /\b(authorization|proxy-authorization|x-api-key|api-key)(["']?\s*[:=]\s*["']?)(?:(bearer|basic)\s+)?[^\s"',;]+/gi;
/** A credential after an auth scheme: `Bearer abc.def`, `Basic dXNlcjpwYXNz`. */
const AUTH_SCHEME = /\b(bearer|basic)\s+([A-Za-z0-9._~+/=-]{8,})/gi;
/** Provider key prefixes: OpenAI `sk-…`/`sk-proj-…`, Anthropic `sk-ant-…`, Google `AIza…`, JWTs. */
const KEY_PREFIX =
  /(?<![A-Za-z0-9_-])(?:(?:sk|pk|rk)-[A-Za-z0-9_-]{8,}|AIza[0-9A-Za-z_-]{30,}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)/g;
/** A credential in a query string outside a full URL (`...&api_key=abc`). */
const QUERY_PARAM =
  /([?&;](?:api[-_]?key|key|access[-_]?token|token|auth|password|passwd|pwd|secret|sig|signature)=)[^&\s"'#]+/gi;
/** A long run of key characters (hex, base64, base64url without `-`). */
const LONG_RUN = /(?<![A-Za-z0-9_+/=])[A-Za-z0-9_+/=]{32,}/g;

/** A long run is a credential when it mixes letters and digits and is not an absolute path. */
function maskLongRun(run: string): string {
  if (run.startsWith('/') || !/[0-9]/.test(run) || !/[A-Za-z]/.test(run)) return run;
  return MASK;
}

/**
 * Text with every registered secret and everything shaped like a credential masked as `***`:
 * bearer and basic credentials, `sk-…` / `sk-ant-…` / `AIza…` keys, JWTs, echoed `authorization`,
 * `x-api-key` and `api-key` headers, URL passwords and credential query parameters, and long runs
 * of letters and digits (32+ characters, as hex and base64 keys are). Idempotent.
 *
 * @example
 * redactText('Incorrect API key provided: sk-proj-abc123def456'); // 'Incorrect API key provided: ***'
 */
export function redactText(text: string): string {
  let out = knownPattern ? text.replace(knownPattern, MASK) : text;
  out = out.replace(URL_IN_TEXT, (url) => redactUrl(url));
  out = out.replace(HEADER_ECHO, (_match, name: string, separator: string, scheme?: string) =>
    scheme ? `${name}${separator}${scheme} ${MASK}` : `${name}${separator}${MASK}`,
  );
  out = out.replace(AUTH_SCHEME, (match, scheme: string, credential: string) =>
    // "Basic authentication": a plain word is not a credential; one with digits or symbols is.
    /[0-9._~+/=-]/.test(credential) || credential.length >= 20 ? `${scheme} ${MASK}` : match,
  );
  out = out.replace(KEY_PREFIX, MASK);
  out = out.replace(QUERY_PARAM, `$1${MASK}`);
  return out.replace(LONG_RUN, maskLongRun);
}

/** Shape rules match at most this much of a cut credential less than a whole one (a 32-character run). */
const SHAPE_CUT_MARGIN = 64;

/**
 * At most `max` characters of foreign text (a provider's error message, an unexpected exception),
 * masked before it is cut so that a secret across the cut cannot leave half shown. Only a window of
 * the text is scrubbed (a huge body costs no more than a short one); it grows until the window's own
 * cut, where part of a secret may sit unmasked, lies past what is kept.
 */
export function redactExcerpt(text: string, max = 300): string {
  const margin = Math.max(SHAPE_CUT_MARGIN, longestKnown);
  for (let window = (max + margin) * 4; ; window *= 4) {
    const scrubbed = redactText(text.slice(0, window));
    if (window >= text.length || scrubbed.length > max + margin) return scrubbed.slice(0, max);
  }
}
