import type { Db } from '@jobs/db';
import { waitReady, type RedisClient as Redis } from '@jobs/queue';

export interface HealthReport {
  status: 'ok' | 'degraded';
  checks: { postgres: 'ok' | 'down'; redis: 'ok' | 'down' };
}

const within = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('health check timed out')), ms).unref())]);

/** Both dependencies, each bounded to 2 s so the endpoint never hangs on an outage. */
export async function checkHealth(db: Db, redis: Redis): Promise<HealthReport> {
  const [pg, rd] = await Promise.all([
    within(db.$queryRawUnsafe('SELECT 1'), 2000).then(() => 'ok' as const, () => 'down' as const),
    within(pingWhenReady(redis), 2000).then(() => 'ok' as const, () => 'down' as const),
  ]);
  return { status: pg === 'ok' && rd === 'ok' ? 'ok' : 'degraded', checks: { postgres: pg, redis: rd } };
}

/** The command connection fails fast while disconnected; a process still connecting is given the bound to do so. */
async function pingWhenReady(redis: Redis): Promise<string> {
  if (redis.status !== 'ready') await waitReady(redis, 2000);
  return redis.ping();
}
