/**
 * Tells connection failures of Postgres or Redis apart from bugs, so the API answers 503 with Retry-After for
 * an outage instead of 500, and workers wait out a database outage instead of failing jobs.
 *
 * Classified by type and code only, never by words in a message: an error whose text merely mentions "Redis"
 * or "connection" (a bug, a client's data quoted in an error) is not an outage. The few clients' errors that
 * carry no code are recognised by their exact, whole message.
 */
export type Dependency = 'postgres' | 'redis';

/** SQLSTATE classes 08 (connection exception) and 57P (operator intervention: admin/crash shutdown, cannot connect now, database dropped, idle session timeout). */
const PG_SQLSTATE = /^(08[0-9A-Z]{3}|57P[0-9A-Z]{2})$/;
/** Prisma: can't reach the server, timed out reaching it, server closed the connection, pool timeout. */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1017', 'P2024']);
/** Prisma driver adapter error kinds (meta.driverAdapterError.cause.kind) that mean the server is out of reach. */
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TlsConnectionError', 'TooManyConnections']);
/** node-postgres errors without a code. */
const PG_MESSAGES = new Set([
  'Connection terminated unexpectedly',
  'Connection terminated',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
]);
/** Socket-level failures as Node reports them (with `syscall` and `errno`). */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** ioredis errors without a code (the client is disconnected, or gave up on a command). */
const REDIS_MESSAGES = new Set([
  'Connection is closed.',
  "Stream isn't writeable and enableOfflineQueue options is false",
  'Command timed out',
  'None of startup nodes is available',
  'Failed to refresh slots cache.',
]);
/** Redis replies that mean the server cannot serve writes or reads right now (full under noeviction, a replica, loading, failover). */
const REDIS_UNAVAILABLE_REPLY = /^(OOM|READONLY|LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY) /;
/** Set by waitReady (packages/queue) when a Redis connection does not become ready in time. */
export const REDIS_NOT_READY = 'ERR_REDIS_NOT_READY';

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  syscall?: unknown;
  errno?: unknown;
  cause?: unknown;
  meta?: { driverAdapterError?: { cause?: { kind?: unknown; code?: unknown; originalCode?: unknown } } };
}

function classifyOne(o: ErrorLike): Dependency | false {
  const name = typeof o.name === 'string' ? o.name : '';
  const code = typeof o.code === 'string' ? o.code : '';
  const message = typeof o.message === 'string' ? o.message : '';
  if (name === 'MaxRetriesPerRequestError' || code === REDIS_NOT_READY) return 'redis';
  if (name === 'ReplyError' && REDIS_UNAVAILABLE_REPLY.test(message)) return 'redis';
  if (REDIS_MESSAGES.has(message)) return 'redis';
  if (name === 'PrismaClientInitializationError' || PRISMA_CODES.has(code)) return 'postgres';
  const adapter = o.meta?.driverAdapterError?.cause;
  if (adapter) {
    if (typeof adapter.kind === 'string' && ADAPTER_KINDS.has(adapter.kind)) return 'postgres';
    const original = typeof adapter.originalCode === 'string' ? adapter.originalCode : adapter.code;
    if (typeof original === 'string' && PG_SQLSTATE.test(original)) return 'postgres';
  }
  // A pg DatabaseError carries the server's SQLSTATE (with a severity, which other libraries' codes lack).
  if (PG_SQLSTATE.test(code) && typeof (o as { severity?: unknown }).severity === 'string') return 'postgres';
  if (PG_MESSAGES.has(message)) return 'postgres';
  // A raw socket error only reaches callers from node-postgres: ioredis retries its own and reports the messages above.
  if (SOCKET_CODES.has(code) && typeof o.syscall === 'string') return 'postgres';
  return false;
}

export function isDependencyDown(err: unknown): Dependency | false {
  const seen = new Set<unknown>();
  let e: unknown = err;
  while (e && typeof e === 'object' && !seen.has(e)) {
    seen.add(e);
    const found = classifyOne(e as ErrorLike);
    if (found) return found;
    e = (e as ErrorLike).cause;
  }
  return false;
}
