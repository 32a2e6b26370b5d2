import type { Logger } from './logger';
import { backgroundErrors } from './metrics';

/**
 * Errors that no request or job reports: connection errors of Redis clients and pools, a failed metrics
 * publish, a transition listener that throws. Each one is counted (jobsvc_background_errors_total{source});
 * the log gets at most one line per source per interval, saying how many were suppressed since the last one,
 * so a Redis outage (a reconnect error every few hundred ms on every connection) cannot flood it.
 *
 * Process-wide like the metrics registry: packages without a logger of their own (the Redis factory, the
 * pg pool, JobStore) report here, and each process names the logger at start.
 */
export const LOG_INTERVAL_MS = 10_000;

let sink: Logger | undefined;
const lastLogged = new Map<string, number>();
const suppressed = new Map<string, number>();

/** The logger background errors go to (each process sets its own at start; unset = counted only). */
export function setBackgroundErrorLogger(logger: Logger | undefined): void {
  sink = logger;
}

export function reportBackgroundError(source: string, err: unknown, now = Date.now()): void {
  backgroundErrors.inc({ source });
  const last = lastLogged.get(source);
  if (last !== undefined && now - last < LOG_INTERVAL_MS) {
    suppressed.set(source, (suppressed.get(source) ?? 0) + 1);
    return;
  }
  lastLogged.set(source, now);
  const skipped = suppressed.get(source) ?? 0;
  suppressed.delete(source);
  const e = err as { message?: unknown; code?: unknown; name?: unknown };
  sink?.warn('background error', {
    source,
    err: typeof e?.message === 'string' ? e.message : String(err),
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
    ...(typeof e?.name === 'string' && e.name !== 'Error' ? { err_name: e.name } : {}),
    suppressed: skipped,
    interval_ms: LOG_INTERVAL_MS,
  });
}

/** An error listener for emitters whose errors would otherwise be dropped (ioredis clients, pg pools, BullMQ queues). */
export const backgroundErrorListener =
  (source: string) =>
  (err: unknown): void =>
    reportBackgroundError(source, err);
