/** What one attempt's result means for the series (also the `outcome` label of the deliveries metric). */
export type AttemptOutcome = 'delivered' | 'retry' | 'gone' | 'refused' | 'exhausted';

/** Each retry's ceiling grows fourfold: base 30 s gives 30 s, 2 min, 8 min, 32 min, 2.1 h, 8.5 h, then 12 h. */
export const CALLBACK_BACKOFF_FACTOR = 4;
/** No single wait, Retry-After included, exceeds this. */
export const CALLBACK_MAX_DELAY_MS = 12 * 3600 * 1000;

/** The upper bound of the wait after failed attempt `attempt` (1-based). */
export function callbackRetryCeiling(baseMs: number, attempt: number): number {
  return Math.min(CALLBACK_MAX_DELAY_MS, baseMs * CALLBACK_BACKOFF_FACTOR ** Math.max(0, attempt - 1));
}

/** Exponential backoff with full jitter: uniform in [0, ceiling], so a receiver's outage is not met by a herd. */
export function callbackRetryDelay(baseMs: number, attempt: number, random: () => number = Math.random): number {
  return Math.floor(random() * callbackRetryCeiling(baseMs, attempt));
}

/** `Retry-After` as delay-seconds or an HTTP date (RFC 9110 10.2.3); null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | null {
  if (value === undefined) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Math.min(CALLBACK_MAX_DELAY_MS, Number(v) * 1000);
  // HTTP dates always name the weekday; this keeps Date.parse from reading "-5" as a year.
  if (!/^[A-Za-z]{3}/.test(v)) return null;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.min(CALLBACK_MAX_DELAY_MS, Math.max(0, at - now));
}

export interface AttemptFacts {
  statusCode: number | null;
  refused: boolean;
}

/** 2xx delivers; 410 and a refused destination end the series; anything else retries while attempts remain. */
export function classifyAttempt(facts: AttemptFacts, attempt: number, maxAttempts: number): AttemptOutcome {
  if (facts.refused) return 'refused';
  if (facts.statusCode !== null && facts.statusCode >= 200 && facts.statusCode < 300) return 'delivered';
  if (facts.statusCode === 410) return 'gone';
  return attempt >= maxAttempts ? 'exhausted' : 'retry';
}

/** The wait before the next attempt: the receiver's Retry-After on 429/503, else the jittered backoff. */
export function nextDelay(statusCode: number | null, retryAfterMs: number | null, baseMs: number, attempt: number, random: () => number = Math.random): number {
  if ((statusCode === 429 || statusCode === 503) && retryAfterMs !== null) return retryAfterMs;
  return callbackRetryDelay(baseMs, attempt, random);
}
