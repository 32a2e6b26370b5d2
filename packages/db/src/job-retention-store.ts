import { rawRows, type Db } from './client';

/** Rows one retention batch removed, by table (`files` counts uploads unlinked from their job, not deleted). */
export interface RetentionBatch {
  jobs: number;
  job_events: number;
  callback_deliveries: number;
  callback_attempts: number;
  steps: number;
  messages: number;
  llm_batch_jobs: number;
  llm_batch_items: number;
  files_unlinked: number;
}

/**
 * One batch: terminal jobs whose completion (and last write) is older than the cutoff, none with a callback
 * series still to be delivered (`pending`/`queued`, or the pre-series `callback_pending` flag), locked with
 * SKIP LOCKED so sweeps in several processes never wait on each other, nor on a concurrent retry (which then
 * finds the job gone). Every table that hangs off a job is emptied explicitly, in the same statement, so the
 * counts are exact; the foreign-key cascades then find nothing left. Files are user data and stay: they only
 * lose their link to the processing job. `updated_at` guards the cutoff too so the (status, updated_at) index
 * finds the candidates; a job written after its completion simply waits until that write is old as well.
 */
const DELETE_BATCH_SQL = `WITH ids AS (
    SELECT j.id FROM jobs j
    WHERE j.status IN ('completed', 'failed', 'cancelled', 'expired')
      AND j.updated_at < $1 AND COALESCE(j.completed_at, j.updated_at) < $1
      AND NOT j.callback_pending
      AND NOT EXISTS (SELECT 1 FROM callback_deliveries c WHERE c.job_id = j.id AND c.state IN ('pending', 'queued'))
    LIMIT $2
    FOR UPDATE OF j SKIP LOCKED
  ),
  ev AS (DELETE FROM job_events e USING ids WHERE e.job_id = ids.id RETURNING 1),
  ca AS (DELETE FROM callback_attempts a USING ids WHERE a.job_id = ids.id RETURNING 1),
  cd AS (DELETE FROM callback_deliveries c USING ids WHERE c.job_id = ids.id AND c.state NOT IN ('pending', 'queued') RETURNING 1),
  li AS (DELETE FROM llm_batch_items i USING ids WHERE i.batch_job_id = ids.id RETURNING 1),
  lb AS (DELETE FROM llm_batch_jobs b USING ids WHERE b.job_id = ids.id RETURNING 1),
  ms AS (DELETE FROM messages m USING ids WHERE m.job_id = ids.id RETURNING 1),
  st AS (DELETE FROM steps s USING ids WHERE s.job_id = ids.id RETURNING 1),
  fl AS (UPDATE files f SET job_id = NULL FROM ids WHERE f.job_id = ids.id RETURNING 1),
  jb AS (DELETE FROM jobs j USING ids WHERE j.id = ids.id RETURNING 1)
  SELECT (SELECT count(*) FROM jb)::int AS jobs, (SELECT count(*) FROM ev)::int AS job_events,
    (SELECT count(*) FROM cd)::int AS callback_deliveries, (SELECT count(*) FROM ca)::int AS callback_attempts,
    (SELECT count(*) FROM st)::int AS steps, (SELECT count(*) FROM ms)::int AS messages,
    (SELECT count(*) FROM lb)::int AS llm_batch_jobs, (SELECT count(*) FROM li)::int AS llm_batch_items,
    (SELECT count(*) FROM fl)::int AS files_unlinked`;

/**
 * Ended series (and their attempts) older than the cutoff whose job is already gone: a job deleted through the
 * API leaves its series behind on purpose (it must still be delivered), and nothing else would ever remove it.
 */
const DELETE_ORPHAN_SERIES_SQL = `WITH s AS (
    SELECT c.webhook_id FROM callback_deliveries c
    WHERE c.state IN ('delivered', 'failed') AND c.updated_at < $1
      AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = c.job_id)
    LIMIT $2
    FOR UPDATE SKIP LOCKED
  ),
  ca AS (DELETE FROM callback_attempts a USING s WHERE a.webhook_id = s.webhook_id RETURNING 1),
  cd AS (DELETE FROM callback_deliveries c USING s WHERE c.webhook_id = s.webhook_id RETURNING 1)
  SELECT (SELECT count(*) FROM cd)::int AS callback_deliveries, (SELECT count(*) FROM ca)::int AS callback_attempts`;

/** Rows one batch of orphaned series removed. */
export interface OrphanSeriesBatch {
  callback_deliveries: number;
  callback_attempts: number;
}

/** Deletion of old terminal jobs (SPEC F13), one bounded batch per call. */
export class JobRetentionStore {
  constructor(private readonly db: Db) {}

  /** Deletes at most `limit` jobs completed before `cutoff`, with everything that hangs off them. */
  async deleteBatch(cutoff: Date, limit: number): Promise<RetentionBatch> {
    const [row] = await rawRows<RetentionBatch & Record<string, unknown>>(this.db, DELETE_BATCH_SQL, [cutoff, limit], {
      prepare: true,
    });
    return row!;
  }

  /** Deletes at most `limit` ended series older than `cutoff` whose job no longer exists, with their attempts. */
  async deleteOrphanSeries(cutoff: Date, limit: number): Promise<OrphanSeriesBatch> {
    const [row] = await rawRows<OrphanSeriesBatch & Record<string, unknown>>(
      this.db,
      DELETE_ORPHAN_SERIES_SQL,
      [cutoff, limit],
      { prepare: true },
    );
    return row!;
  }
}
