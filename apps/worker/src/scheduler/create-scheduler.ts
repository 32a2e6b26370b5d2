import type Anthropic from '@anthropic-ai/sdk';
import type { Settings } from '@jobs/core';
import type { BatchStore, JobStore } from '@jobs/db';
import type { Logger } from '@jobs/observability';
import { LeaderLock, POLL_LLM_BATCHES, SWEEP, leaderLockKey, type RedisRole, type RedisClient as Redis } from '@jobs/queue';
import { pollRunningLlmBatches } from '../batches/poll-llm-batches';
import { Scheduler, type ScheduleEntry } from './scheduler';

/** The reconciler/expiry/file-timeout sweep, provided by the execution side (apps/worker/src/reconciler.ts). */
export interface Reconciler {
  sweepOnce(): Promise<unknown>;
}

export interface SchedulerWiring {
  settings: Settings;
  logger: Logger;
  jobs: JobStore;
  batches: BatchStore;
  anthropic: Anthropic | undefined;
  instanceId: string;
  /** Opens a Redis connection owned (and closed) by the worker process. */
  redis: (role: RedisRole) => Redis;
  reconciler?: Reconciler;
}

/** Builds the leader lock and the scheduled handlers of SPEC F7 from settings. */
export function createScheduler(w: SchedulerWiring): Scheduler {
  const { settings, logger } = w;
  const command = w.redis('command');
  const lock = new LeaderLock(command, {
    key: leaderLockKey(settings.QUEUE_PREFIX),
    ttlMs: settings.POLL_LOCK_TTL_MS,
    retryIntervalMs: settings.POLL_LOCK_RETRY_INTERVAL_SECONDS * 1000,
    instanceId: w.instanceId,
  });
  const entries: ScheduleEntry[] = [];
  if (settings.ENABLE_BATCH_JOB_POLLING) {
    const anthropic = w.anthropic;
    entries.push({
      name: POLL_LLM_BATCHES,
      everyMs: settings.POLL_RUNNING_LLM_BATCHES_INTERVAL_SECONDS * 1000,
      handler: async (signal) => {
        if (!anthropic) {
          logger.warn('llm batch polling is on but ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL is not set; skipping');
          return { skipped: 'no Anthropic client' };
        }
        return pollRunningLlmBatches(
          { batches: w.batches, jobs: w.jobs, anthropic, logger },
          {
            lookbackWeeks: settings.BATCH_JOB_POLLING_LOOKBACK_WEEKS,
            ...(settings.BATCH_JOB_POLLING_BATCH_SIZE ? { batchSize: settings.BATCH_JOB_POLLING_BATCH_SIZE } : {}),
            concurrency: settings.BATCH_JOB_POLLING_CONCURRENCY,
            // The lock token: the same name the scheduler status reports as leader_id.
            instanceId: lock.token,
          },
          signal,
        );
      },
    });
  }
  const reconciler = w.reconciler;
  if (reconciler) entries.push({ name: SWEEP, everyMs: settings.SWEEP_INTERVAL_MS, handler: () => reconciler.sweepOnce() });
  return new Scheduler({ connection: w.redis('worker'), redis: command, prefix: settings.QUEUE_PREFIX, lock, entries, logger: logger.child({ component: 'scheduler' }), abdicatePauseMs: settings.POLL_LOCK_TTL_MS });
}
