import { REDIS_NOT_READY } from '@jobs/core';
import { backgroundErrorListener } from '@jobs/observability';
import { Redis, type RedisOptions } from 'ioredis';

export type RedisRole = 'worker' | 'producer' | 'subscriber' | 'command';

/**
 * ioredis connections tuned by role. Workers block and must wait out outages (maxRetriesPerRequest null,
 * as BullMQ requires); producers and commands fail fast so the API can answer 503 instead of hanging.
 */
export function createRedis(url: string, role: RedisRole, extra: RedisOptions = {}): Redis {
  const base: RedisOptions = {
    connectionName: `jobsvc-${role}-${process.pid}`,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 5000),
    connectTimeout: 3000,
    lazyConnect: false,
  };
  const byRole: Record<RedisRole, RedisOptions> = {
    worker: { maxRetriesPerRequest: null, enableReadyCheck: true },
    subscriber: { maxRetriesPerRequest: null },
    // Auto-pipelining: commands issued in the same tick by concurrent requests leave in one write.
    producer: { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 3000, enableAutoPipelining: true },
    command: { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 3000, enableAutoPipelining: true },
  };
  const client = new Redis(url, { ...base, ...byRole[role], ...extra });
  // Connection errors are retried by the strategy above; they are counted and logged (rate-limited) so an
  // outage shows, and without a listener ioredis would print each one.
  client.on('error', backgroundErrorListener('redis'));
  return client;
}

/** How long a producer call waits for a Redis connection that is not ready before giving up. */
export const READY_WAIT_MS = 1000;

/** Resolves once the client is ready, or rejects after `timeoutMs`. */
export async function waitReady(client: Redis, timeoutMs = 5000): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => {
      cleanup();
      reject(Object.assign(new Error(`Redis not ready after ${timeoutMs} ms`), { code: REDIS_NOT_READY }));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(t);
      client.off('ready', onReady);
    };
    client.on('ready', onReady);
  });
}
