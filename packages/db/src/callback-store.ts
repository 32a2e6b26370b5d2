import { TERMINAL_STATUSES } from '@jobs/core';
import type { Db } from './client';
import type { JobRow } from './job-row';

/** What one delivery attempt left behind (SPEC F6: recorded on the job, whatever the outcome). */
export interface CallbackAttemptRecord {
  /** The HTTP status that came back; null when no response arrived (refused, network error, timeout). */
  statusCode: number | null;
  /** Why the attempt did not count as delivered; null on 2xx. */
  error: string | null;
}

/**
 * The callback columns of `jobs`. Every write is keyed by (job id, webhook-id): a delivery series belongs
 * to one terminal transition, and once the job is retried (new or no webhook-id) its old series can no
 * longer touch the row. None of these statements change `status`.
 */
export class CallbackStore {
  constructor(private readonly db: Db) {}

  /** The series is in the callbacks queue now; the sweep stops looking at the row. */
  async markEnqueued(jobId: string, webhookId: string): Promise<void> {
    await this.db.$executeRawUnsafe(
      'UPDATE jobs SET callback_pending = false WHERE id = $1 AND callback_webhook_id = $2 AND callback_pending',
      jobId,
      webhookId,
    );
  }

  /** Records an attempt; false when the row is gone or belongs to a newer series (nothing written). */
  async recordAttempt(jobId: string, webhookId: string, attempt: CallbackAttemptRecord): Promise<boolean> {
    const n = await this.db.$executeRawUnsafe(
      `UPDATE jobs SET callback_sent_at = now(), callback_status_code = $3, callback_error = $4,
         callback_attempts = callback_attempts + 1
       WHERE id = $1 AND callback_webhook_id = $2`,
      jobId,
      webhookId,
      attempt.statusCode,
      attempt.error,
    );
    return n > 0;
  }

  /**
   * Terminal rows whose series never reached the queue (the writer died between commit and enqueue, or
   * Redis was down), oldest first. `graceMs` leaves the writer's own enqueue time to finish.
   */
  async findUnqueued(graceMs: number, limit: number): Promise<JobRow[]> {
    return this.db.$queryRawUnsafe<JobRow[]>(
      `SELECT * FROM jobs
       WHERE callback_pending AND completed_at < now() - make_interval(secs => $1::double precision / 1000)
         AND status = ANY($2::text[]) AND callback_webhook_id IS NOT NULL AND callback_url IS NOT NULL
       ORDER BY completed_at LIMIT $3`,
      graceMs,
      [...TERMINAL_STATUSES],
      limit,
    );
  }
}
