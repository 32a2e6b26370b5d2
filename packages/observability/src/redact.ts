/**
 * Secrets never reach the log (SPEC F14), whatever a caller passes: values under secret-looking keys at any
 * depth (arrays included), and secrets inside any string — the process's own configured secrets, the
 * service's key formats (`jsk_…`, `whsec_…`, Anthropic's `sk-ant-…`), bearer tokens, URL passwords (see urlSecrets) and
 * secret-named query parameters (a client's URL quoted in an error message).
 *
 * Bounded: at most MAX_DEPTH levels and MAX_NODES values per line (the rest is replaced by a marker), and
 * cycles are cut, so a deep or cyclic object cannot blow the stack or stall the process in the logger.
 */
export const REDACTED = '[redacted]';
const MAX_DEPTH = 10;
const MAX_NODES = 2000;

/** Keys whose values are secret, whatever their shape (exact names, and `*_secret`, `*_token`, `*_password`, `*_api_key`). */
const SECRET_KEY =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api[-_]?key|key|secret|password|passwd|token|access[-_]token|refresh[-_]token|session|private[-_]key|client[-_]secret|webhook[-_]secret|previous[-_]webhook[-_]secret|signing[-_]secrets?)$|[-_](secret|token|password|api[-_]?key)$/i;

/** Secrets recognisable by their shape, wherever they appear in a string. */
const SECRET_PATTERNS: [RegExp, string][] = [
  [/\bjsk_[A-Za-z0-9_-]{16,}/g, `jsk_${REDACTED}`],
  [/\bwhsec_[A-Za-z0-9+/=%]{16,}/g, `whsec_${REDACTED}`],
  [/\bsk-ant-[A-Za-z0-9_-]{8,}/g, REDACTED],
  [/\b(Bearer|Basic)(\s+|%20|\+)[A-Za-z0-9._~+/=%-]{6,}/gi, `$1 ${REDACTED}`],
  // user:password@ in any URL
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)[^\s/@]+@/gi, `$1${REDACTED}@`],
  // ?api_key=…&token=… and the like, in a URL or as text
  [/((?:^|[?&;\s,(])(?:api[-_]?key|key|token|access[-_]token|secret|client[-_]secret|password|passwd|pass|auth|signature|sig|session)=)[^&#\s"'<>]*/gi, `$1${REDACTED}`],
];

/** Secret values of this process (configured keys, passwords), matched verbatim and URL-encoded. */
const known = new Set<string>();

/** Adds secrets to look for in every string logged from now on (values under 6 characters are ignored). */
export function registerSecrets(...values: (string | undefined | null)[]): void {
  for (const v of values) {
    if (!v || v.length < 6) continue;
    known.add(v);
    known.add(encodeURIComponent(v));
  }
}

/**
 * A URL password at least this long is also looked for verbatim in every string. A shorter one (`postgres`,
 * `redis`) is a plain word that would blank out operator messages such as "postgres unavailable", so it is
 * redacted only where it stands as a password, in a URL's `user:password@` (a SECRET_PATTERNS entry).
 */
export const MIN_URL_PASSWORD_MATCH = 16;

/** The secrets inside a URL (its password) long enough to be matched anywhere, for registerSecrets. */
export function urlSecrets(url: string | undefined): string[] {
  if (!url) return [];
  try {
    const u = new URL(url);
    const password = decodeURIComponent(u.password);
    return password.length >= MIN_URL_PASSWORD_MATCH ? [password, u.password] : [];
  } catch {
    return [];
  }
}

export function redactString(s: string): string {
  if (s.length < 6) return s;
  let out = s;
  for (const secret of known) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  for (const [re, replacement] of SECRET_PATTERNS) out = out.replace(re, replacement);
  return out;
}

export const isSecretKey = (key: string): boolean => SECRET_KEY.test(key);

interface Walk {
  nodes: number;
  ancestors: Set<object>;
}

/** A redacted copy of `value` (the caller's objects are never changed). */
export function redactValue(value: unknown, depth = 0, walk: Walk = { nodes: 0, ancestors: new Set() }): unknown {
  if (++walk.nodes > MAX_NODES) return '[truncated]';
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return value;
  if (walk.ancestors.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[binary ${value.byteLength} bytes]`;
  walk.ancestors.add(value);
  try {
    if (value instanceof Error) {
      const e = value as Error & { code?: unknown; cause?: unknown };
      const plain: Record<string, unknown> = { name: e.name, message: e.message };
      if (e.code !== undefined) plain.code = e.code;
      if (e.stack) plain.stack = e.stack;
      if (e.cause !== undefined) plain.cause = e.cause;
      return redactObject(plain, depth, walk);
    }
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return redactValue((toJSON as () => unknown).call(value), depth + 1, walk);
    if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1, walk));
    if (value instanceof Map) return redactObject(Object.fromEntries([...value.entries()].map(([k, v]) => [String(k), v as unknown])), depth, walk);
    if (value instanceof Set) return [...value].map((v) => redactValue(v, depth + 1, walk));
    return redactObject(value as Record<string, unknown>, depth, walk);
  } finally {
    walk.ancestors.delete(value);
  }
}

function redactObject(o: Record<string, unknown>, depth: number, walk: Walk): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o)) out[k] = isSecretKey(k) && o[k] !== null && o[k] !== undefined ? REDACTED : redactValue(o[k], depth + 1, walk);
  return out;
}

/** Redacts a winston info object in place at the top (its Symbol keys kept) and by copy below. */
export function redactInfo<T extends Record<string | symbol, unknown>>(info: T): T {
  const walk: Walk = { nodes: 0, ancestors: new Set([info]) };
  const rec = info as Record<string, unknown>;
  for (const k of Object.keys(info)) {
    const v = rec[k];
    rec[k] = isSecretKey(k) && v !== null && v !== undefined ? REDACTED : redactValue(v, 1, walk);
  }
  return info;
}

/** Registers the secrets of a process's settings: its keys and the passwords in its service URLs. */
export function registerSettingsSecrets(s: { BOOTSTRAP_API_KEY?: string | undefined; ANTHROPIC_API_KEY?: string | undefined; DATABASE_URL?: string; REDIS_URL?: string }): void {
  registerSecrets(s.BOOTSTRAP_API_KEY, s.ANTHROPIC_API_KEY, ...urlSecrets(s.DATABASE_URL), ...urlSecrets(s.REDIS_URL));
}
