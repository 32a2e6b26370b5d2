import { publicUrl, type Settings } from '@jobs/core';
import { CallbackStore, type Db, type JobStore } from '@jobs/db';
import type { Logger } from '@jobs/observability';
import { CallbackQueue, type createRedis, type RedisClient as Redis } from '@jobs/queue';
import { enqueueMissingCallbacks } from '@jobs/service';
import type { HostGuard } from '@jobs/outbound';
import { CallbackWorker } from './callback-worker';
import { attemptFirstCallbacks } from './first-attempt';

export interface CallbackDelivery {
  queue: CallbackQueue;
  worker: CallbackWorker;
  /** The reconciler step: queues terminal rows whose series never reached the queue. */
  sweep(): Promise<number>;
  start(): void;
  close(): Promise<void>;
}

export interface CallbackDeliveryDeps {
  db: Db;
  jobs: JobStore;
  guard: HostGuard;
  logger: Logger;
  redis: (role: Parameters<typeof createRedis>[1]) => Redis;
}

/**
 * Everything F6 runs inside a worker process: the transition listener that queues each series and makes its
 * first attempt, the callbacks worker (every later attempt), and the step the process's reconciler runs on
 * every sweep.
 */
export function createCallbackDelivery(settings: Settings, deps: CallbackDeliveryDeps): CallbackDelivery {
  const store = new CallbackStore(deps.db);
  const queue = new CallbackQueue(deps.redis('producer'), settings.QUEUE_PREFIX, settings.CALLBACK_MAX_ATTEMPTS);
  const worker = new CallbackWorker(
    { store, guard: deps.guard, logger: deps.logger },
    {
      connection: deps.redis('worker'),
      prefix: settings.QUEUE_PREFIX,
      concurrency: settings.CALLBACK_CONCURRENCY,
      lockDurationMs: settings.LOCK_DURATION_MS,
      stalledIntervalMs: settings.STALLED_INTERVAL_MS,
      timeoutMs: settings.CALLBACK_TIMEOUT_MS,
      maxResponseBytes: settings.CALLBACK_MAX_RESPONSE_BYTES,
      backoffMs: settings.CALLBACK_BACKOFF_MS,
      publicUrl: publicUrl(settings),
    },
  );
  const firsts = attemptFirstCallbacks(
    deps.jobs,
    queue,
    worker.attempter,
    { concurrency: settings.CALLBACK_CONCURRENCY, holdMs: settings.LOCK_DURATION_MS, maxAttempts: settings.CALLBACK_MAX_ATTEMPTS },
    deps.logger,
  );
  return {
    queue,
    worker,
    sweep: () => enqueueMissingCallbacks(queue, store),
    start() {
      worker.start();
    },
    async close() {
      // A first attempt cut short would be made again from its held entry; letting it end avoids the duplicate.
      await firsts.drain();
      await worker.close();
      await queue.close();
    },
  };
}
