import type { Settings } from '@jobs/core';
import type { AccountStore, CallbackStore, Db, JobStore } from '@jobs/db';
import type { Logger } from '@jobs/observability';
import type { CallbackQueue, JobBus, JobQueue, SchedulerStatusReader, RedisClient as Redis } from '@jobs/queue';
import type { TaskRegistry } from '@jobs/tasks';

/** Everything the Express app needs, built by the process entry (or by a test) and passed to createApp. */
export interface AppDeps {
  settings: Settings;
  logger: Logger;
  db: Db;
  redis: Redis;
  jobs: JobStore;
  accounts: AccountStore;
  queue: JobQueue;
  bus: JobBus;
  tasks: TaskRegistry;
  /** Checks a callback URL at create time (SSRF guard); throws a ValidationError naming `callback_url`. */
  checkCallbackUrl?: (url: string) => Promise<void>;
  /** Reads the scheduler's leader and job schedulers from Redis (admin routes); absent = 503 there. */
  schedulerStatus?: SchedulerStatusReader;
  /** The `callbacks` queue producer and the callback columns (redelivery route). */
  callbacks?: { queue: CallbackQueue; store: CallbackStore };
  /** Fires when the process starts to stop: long-lived responses (event streams) end instead of holding it up. */
  shutdown?: AbortSignal;
}
