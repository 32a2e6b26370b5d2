import type { Db } from './client';
import type { DeliveryRow } from './callback-store';

/** One row of the attempt log (`callback_attempts`). */
export interface CallbackAttemptRow {
  webhook_id: string;
  attempt: number;
  at: Date;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  response_excerpt: string | null;
}

export interface RedeliveryScope {
  /** null: every organization (operator). */
  organizationId: string | null;
  /** Series that ended (their last write) at or after this moment. */
  since: Date;
}

const DELIVERY_COLUMNS = `webhook_id, job_id, organization_id, job_attempt, callback_url, status, stop_reason, completed_at, metadata, state, attempts, next_attempt_at`;

/**
 * Reads of the callback attempt log (written by CallbackStore with each attempt) and the bulk reopening of
 * series that ended undelivered.
 */
export class CallbackAttemptsStore {
  constructor(private readonly db: Db) {}

  /** Every attempt of every series of the job, oldest first. The caller has checked the job is visible. */
  async forJob(jobId: string): Promise<CallbackAttemptRow[]> {
    return this.db.$queryRawUnsafe<CallbackAttemptRow[]>(
      `SELECT webhook_id, attempt, at, status_code, error, duration_ms, response_excerpt FROM callback_attempts
       WHERE job_id = $1 ORDER BY at, webhook_id, attempt`,
      jobId,
    );
  }

  /**
   * Series that ended undelivered (`failed`: exhausted, 410, refused, organization gone) at or after
   * `since` become `queued` again, due now, and are returned for queueing under their own webhook-ids. The
   * sweep watches them from here on, whatever happens to the caller's enqueue.
   */
  async reopenUndelivered(scope: RedeliveryScope): Promise<DeliveryRow[]> {
    return this.db.$queryRawUnsafe<DeliveryRow[]>(
      `UPDATE callback_deliveries SET state = 'queued', next_attempt_at = now(), updated_at = now()
       WHERE state = 'failed' AND updated_at >= $1 AND ($2::text IS NULL OR organization_id = $2)
       RETURNING ${DELIVERY_COLUMNS}`,
      scope.since,
      scope.organizationId,
    );
  }
}
