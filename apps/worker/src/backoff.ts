/** Exponential backoff with full jitter: a random delay in [0, base * 2^(attempt-1)], capped. */
export function fullJitterBackoff(baseMs: number, attempt: number, capMs = 24 * 3600 * 1000, random = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}
