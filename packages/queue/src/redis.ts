import { REDIS_NOT_READY } from '@jobs/core';
import { backgroundErrorListener } from '@jobs/observability';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

export type RedisRole = 'worker' | 'producer' | 'subscriber' | 'command';

/**
 * A connection to one Redis or to a Redis Cluster. BullMQ takes either; the service's own commands (pub/sub,
 * Lua, MULTI) work on both because every key lives under the queue prefix, hash-tagged in cluster mode.
 */
export type RedisClient = Redis | Cluster;

/**
 * Where Redis is: one server by URL, or a cluster by seed nodes (`REDIS_CLUSTER_NODES` wins over `REDIS_URL`), with
 * the credentials and TLS every node is reached with.
 */
export type RedisTarget =
  | string
  | { clusterNodes: readonly { host: string; port: number }[]; username?: string; password?: string; tls?: boolean };

/**
 * The target the settings name. A cluster's nodes take their user, password and TLS (`rediss://`) from
 * REDIS_URL, so one setting carries the secret whichever mode is used; its host and port are ignored then.
 */
export function redisTarget(s: { REDIS_URL: string; REDIS_CLUSTER_NODES?: readonly { host: string; port: number }[] | undefined }): RedisTarget {
  if (!s.REDIS_CLUSTER_NODES || s.REDIS_CLUSTER_NODES.length === 0) return s.REDIS_URL;
  const url = new URL(s.REDIS_URL);
  return {
    clusterNodes: s.REDIS_CLUSTER_NODES,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: true } : {}),
  };
}

/**
 * ioredis connections tuned by role. Workers block and must wait out outages (maxRetriesPerRequest null,
 * as BullMQ requires); producers and commands fail fast so the API can answer 503 instead of hanging.
 */
export function createRedis(url: string, role: RedisRole, extra?: RedisOptions): Redis;
export function createRedis(target: RedisTarget, role: RedisRole, extra?: RedisOptions): RedisClient;
export function createRedis(target: RedisTarget, role: RedisRole, extra: RedisOptions = {}): RedisClient {
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
  const options = { ...base, ...byRole[role], ...extra };
  const client =
    typeof target === 'string'
      ? new Redis(target, options)
      : new Cluster([...target.clusterNodes], clusterOptions({ ...options, username: target.username, password: target.password, ...(target.tls ? { tls: {} } : {}) }));
  // Connection errors are retried by the strategy above; they are counted and logged (rate-limited) so an
  // outage shows, and without a listener ioredis would print each one.
  client.on('error', backgroundErrorListener('redis'));
  return client;
}

/** How long a producer call waits for a Redis connection that is not ready before giving up. */
export const READY_WAIT_MS = 1000;

/**
 * Cluster-level options from the per-node ones. The offline queue, auto-pipelining and the retry pacing are the
 * cluster's own settings (the per-node ones are ignored there); a failover is retried rather than surfaced, for
 * as long as a replica needs to be promoted.
 */
function clusterOptions(node: RedisOptions): ClusterOptions {
  const { enableOfflineQueue, enableAutoPipelining, enableReadyCheck, lazyConnect, retryStrategy: _nodeRetries, ...redisOptions } = node;
  return {
    redisOptions,
    enableOfflineQueue: enableOfflineQueue ?? true,
    enableAutoPipelining: enableAutoPipelining ?? false,
    enableReadyCheck: enableReadyCheck ?? true,
    lazyConnect: lazyConnect ?? false,
    // A lost node is not redialled (ioredis waits for MOVED and refreshes slots instead); this paces
    // reconnecting to the cluster as a whole.
    clusterRetryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 5000),
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 100,
    maxRedirections: 32,
    slotsRefreshTimeout: 3000,
  };
}

/** Resolves once the client is ready, or rejects after `timeoutMs`. */
export async function waitReady(client: RedisClient, timeoutMs = 5000): Promise<void> {
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

/**
 * How long a BullMQ worker's fetch loop pauses after a connection error before fetching again. BullMQ's own
 * default (15 s) would leave a worker idle that long after Redis returns; the connection's reconnect backoff
 * already paces the retries.
 */
export const WORKER_RUN_RETRY_DELAY_MS = 1000;
