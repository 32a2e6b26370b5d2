import type { JobRetentionStore, RetentionBatch } from '@jobs/db';
import { retentionRowsDeleted, type Logger } from '@jobs/observability';

export interface JobRetentionOptions {
  /** JOB_RETENTION_DAYS; 0 turns retention off. */
  retentionDays: number;
  /** Jobs per statement (JOB_RETENTION_BATCH_SIZE). */
  batchSize: number;
  /**
   * Batches per run at most: the run is a step of the sweep, which must stay short for the steps after it;
   * a longer backlog is worked off over the next sweeps.
   */
  maxBatchesPerRun?: number;
  /** Between two batches, so concurrent writers get the disk and the locks in between. */
  pauseMs?: number;
}

const DAY_MS = 24 * 3600 * 1000;
const DELETED_TABLES = [
  'jobs',
  'job_events',
  'callback_deliveries',
  'callback_attempts',
  'steps',
  'messages',
  'llm_batch_jobs',
  'llm_batch_items',
] as const;

/**
 * Retention (SPEC F13), run as a step of the reconciler sweep: deletes terminal jobs older than
 * JOB_RETENTION_DAYS in bounded batches until a batch comes back short (or the per-run bound is hit).
 * Returns the number of jobs deleted. Safe in several processes at once: batches skip locked rows.
 */
export async function runJobRetention(
  store: JobRetentionStore,
  logger: Logger,
  opts: JobRetentionOptions,
): Promise<number> {
  if (opts.retentionDays <= 0) return 0;
  const maxBatches = opts.maxBatchesPerRun ?? 50;
  const pauseMs = opts.pauseMs ?? 20;
  const cutoff = new Date(Date.now() - opts.retentionDays * DAY_MS);
  let jobs = 0;
  let filesUnlinked = 0;
  for (let batch = 1; ; batch++) {
    const removed = await store.deleteBatch(cutoff, opts.batchSize);
    count(removed);
    jobs += removed.jobs;
    filesUnlinked += removed.files_unlinked;
    if (removed.jobs < opts.batchSize || batch >= maxBatches) break;
    await new Promise((r) => setTimeout(r, pauseMs));
  }
  if (jobs > 0)
    logger.info('retention deleted old terminal jobs', {
      jobs,
      files_unlinked: filesUnlinked,
      cutoff: cutoff.toISOString(),
    });
  return jobs;
}

function count(batch: RetentionBatch): void {
  for (const table of DELETED_TABLES) if (batch[table] > 0) retentionRowsDeleted.inc({ table }, batch[table]);
}
