import Anthropic from '@anthropic-ai/sdk';
import { TaskError } from '@jobs/core';

/** Statuses worth another attempt: timeouts, conflicts, rate limits and the provider's own failures (529 included). */
const retryableStatus = (status: number) => status === 408 || status === 409 || status === 429 || status >= 500;
/** Error types of a stream that failed after its 200 (an `event: error`): the provider's transient ones. */
const RETRYABLE_TYPES = new Set(['overloaded_error', 'api_error', 'rate_limit_error', 'timeout_error']);

/**
 * An SDK failure as the job's failure: stop_reason `llm_api_error`, the provider's error type as `code` and its
 * message, retryable or not (400/401/403/404/413/422 fail at once), and `retry-after` as the least delay.
 * Anything that is not an API error (a bug, a parse failure) is returned unchanged.
 */
export function llmApiError(err: unknown): unknown {
  // Our own abort (cancel, timeout, shutdown) is the runner's to settle, not a provider failure.
  if (err instanceof Anthropic.APIUserAbortError) return err;
  if (err instanceof Anthropic.APIConnectionError) {
    // Resets, refused connections, timeouts: the request may not have reached the provider; try again.
    return new TaskError(`api_connection_error: ${err.message}`, { code: 'api_connection_error', stopReason: 'llm_api_error', permanent: false });
  }
  if (!(err instanceof Anthropic.APIError)) return err;
  const status = err.status;
  const type = err.type ?? (status === undefined ? 'api_error' : `http_${status}`);
  const message = err.apiMessage ?? err.message;
  const retryable = status === undefined ? RETRYABLE_TYPES.has(type) : retryableStatus(status);
  const retryAfterMs = err.headers ? retryAfter(err.headers) : undefined;
  return new TaskError(`${status ?? 'stream'} ${type}: ${message}`, {
    code: type,
    stopReason: 'llm_api_error',
    permanent: !retryable,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

/** `retry-after-ms`, else `retry-after` in seconds or as an HTTP date; undefined when absent or unreadable. */
export function retryAfter(headers: Headers, now = Date.now()): number | undefined {
  const ms = Number(headers.get('retry-after-ms') ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const v = headers.get('retry-after');
  if (v === null || v.trim() === '') return undefined;
  const seconds = Number(v);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
