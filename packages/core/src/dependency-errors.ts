/**
 * Tells connection failures of Postgres or Redis apart from bugs, so the API answers 503 with
 * Retry-After for an outage instead of 500.
 */
export function isDependencyDown(err: unknown): 'postgres' | 'redis' | false {
  const seen = new Set<unknown>();
  let e: unknown = err;
  while (e && typeof e === 'object' && !seen.has(e)) {
    seen.add(e);
    const o = e as { name?: string; code?: string; message?: string; cause?: unknown };
    const msg = `${o.name ?? ''} ${o.code ?? ''} ${o.message ?? ''}`;
    if (/MaxRetriesPerRequest|enableOfflineQueue|Connection is closed|Command timed out|ioredis|Redis/i.test(msg)) return 'redis';
    if (/P1001|P1002|P1017|P2024|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|Connection terminated|timeout exceeded when trying to connect|DatabaseNotReachable|terminating connection|the database system is|Can't reach database|connection.*(closed|ended)/i.test(msg)) return 'postgres';
    e = o.cause;
  }
  return false;
}
