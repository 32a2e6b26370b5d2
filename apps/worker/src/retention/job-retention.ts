import type { JobRetentionStore } from '@jobs/db';
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
 * JOB_RETENTION_DAYS in bounded batches until a batch comes back short (or the per-run bound is hit), then
 * in the same way ended series left behind by jobs deleted through the API. Returns the number of jobs deleted. Safe in several processes at once: batches skip locked rows.
 */
export async function runJobRetention(
  store: JobRetentionStore,
  logger: Logger,
  opts: JobRetentionOptions,
): Promise<number> {
  if (opts.retentionDays <= 0) return 0;
  const bounds = { maxBatches: opts.maxBatchesPerRun ?? 50, pauseMs: opts.pauseMs ?? 20, batchSize: opts.batchSize };
  const cutoff = new Date(Date.now() - opts.retentionDays * DAY_MS);
  let filesUnlinked = 0;
  const jobs = await inBatches(bounds, async () => {
    const removed = await store.deleteBatch(cutoff, opts.batchSize);
    count(removed);
    filesUnlinked += removed.files_unlinked;
    return removed.jobs;
  });
  const orphans = await inBatches(bounds, async () => {
    const removed = await store.deleteOrphanSeries(cutoff, opts.batchSize);
    count(removed);
    return removed.callback_deliveries;
  });
  if (jobs > 0 || orphans > 0) {
    logger.info('retention deleted old terminal jobs', {
      jobs,
      orphan_series: orphans,
      files_unlinked: filesUnlinked,
      cutoff: cutoff.toISOString(),
    });
  }
  return jobs;
}

/** Runs `batch` until it comes back short or `maxBatches` ran, pausing in between; the sum of its counts. */
async function inBatches(
  bounds: { maxBatches: number; pauseMs: number; batchSize: number },
  batch: () => Promise<number>,
): Promise<number> {
  let total = 0;
  for (let n = 1; ; n++) {
    const done = await batch();
    total += done;
    if (done < bounds.batchSize || n >= bounds.maxBatches) return total;
    await new Promise((r) => setTimeout(r, bounds.pauseMs));
  }
}

function count(batch: Partial<Record<(typeof DELETED_TABLES)[number], number>>): void {
  for (const table of DELETED_TABLES) {
    const n = batch[table] ?? 0;
    if (n > 0) retentionRowsDeleted.inc({ table }, n);
  }
}
