import { Queue } from 'bullmq';
import { type RedisClient as Redis, QUEUE_NAMES } from '@jobs/queue';
import { backgroundErrorListener } from '@jobs/observability';

export interface ServiceQueues {
  /** One read-side Queue object per queue of the service (dashboard, queue depths). */
  list: Queue[];
  close(): Promise<void>;
}

/** Queue objects over the app's command connection; closing them leaves that connection to its owner. */
export function openServiceQueues(redis: Redis, prefix: string): ServiceQueues {
  const list = QUEUE_NAMES.map((name) => {
    const q = new Queue(name, { connection: redis, prefix, skipVersionCheck: true });
    // Outages surface through /api/health and the callers' own requests; unheard, BullMQ prints each error.
    q.on('error', backgroundErrorListener('bullmq_queue'));
    return q;
  });
  return {
    list,
    async close() {
      await Promise.all(list.map((q) => q.close().catch(() => undefined)));
    },
  };
}
