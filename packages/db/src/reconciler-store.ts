import type { JobStatus } from '@jobs/core';
import type { Db } from './client';

/** What the reconciler needs to know of an active row to decide whether the queue still holds it. */
export interface ReconcilerCandidate {
  id: string;
  status: Extract<JobStatus, 'created' | 'pending' | 'running'>;
  attempts: number;
  task: string;
  organization_id: string;
  priority: number | null;
  run_at: Date | null;
  concurrency_key: string | null;
  concurrency_limit: number | null;
  updated_at: Date;
}

export interface ReconcilerCursor {
  updatedAt: Date;
  id: string;
}

/**
 * The reads of the sweep (reconciler and expiry). Writes go through JobStore.transition, whose guard
 * makes concurrent reconciler instances harmless; these reads only nominate rows.
 */
export class ReconcilerStore {
  constructor(private readonly db: Db) {}

  /** Rows that are not running yet and whose `expires_at` has passed. */
  async expiredBeforeStart(limit: number): Promise<{ id: string }[]> {
    return this.db.$queryRawUnsafe<{ id: string }[]>(
      `SELECT id FROM jobs WHERE status IN ('created', 'pending') AND expires_at IS NOT NULL AND expires_at <= now()
       ORDER BY expires_at LIMIT $1`,
      limit,
    );
  }

  /**
   * Active rows untouched for at least `minAgeMs`, a page at a time in (updated_at, id) order. The age
   * filter keeps the sweep away from rows whose creator or worker is between two steps right now.
   */
  async staleActive(minAgeMs: number, after: ReconcilerCursor | null, limit: number): Promise<ReconcilerCandidate[]> {
    return this.db.$queryRawUnsafe<ReconcilerCandidate[]>(
      `SELECT id, status, attempts, task, organization_id, priority, run_at, concurrency_key, concurrency_limit, updated_at FROM jobs
       WHERE status IN ('created', 'pending', 'running')
         -- A running row handed off by its task (an LLM batch waiting for the poller) has no live queue
         -- entry by design; its owner, not the reconciler, finishes it.
         AND NOT (status = 'running' AND completion_owner IS NOT NULL)
         AND updated_at < now() - make_interval(secs => $1::double precision / 1000)
         AND ($2::timestamptz IS NULL OR (updated_at, id) > ($2::timestamptz, $3::text))
       ORDER BY updated_at, id LIMIT $4`,
      minAgeMs,
      after?.updatedAt ?? null,
      after?.id ?? null,
      limit,
    );
  }
}
