import type { Actor, JobStatus } from '@jobs/core';
import type { Db } from './client';
import { keysetPage, type KeysetQuery } from './keyset-page';

export const BATCH_ITEM_STATUSES = ['created', 'submitted', 'succeeded', 'errored', 'canceled', 'expired'] as const;
export type BatchItemStatus = (typeof BATCH_ITEM_STATUSES)[number];
/** The statuses an item ends in once the provider's batch has ended. */
export type BatchItemOutcome = Extract<BatchItemStatus, 'succeeded' | 'errored' | 'canceled' | 'expired'>;

export interface BatchRequest {
  custom_id: string;
  params: Record<string, unknown>;
}

export interface LlmBatchRow {
  job_id: string;
  provider: string;
  provider_batch_id: string | null;
  processing_status: string;
  request_counts: Record<string, number> | null;
  latest_polling_response: unknown;
  last_poll_error: string | null;
  last_polled_at: Date | null;
  submitted_at: Date | null;
  cancel_requested_at: Date | null;
  finalized_at: Date | null;
  created_at: Date;
  updated_at: Date;
  submit_token: string | null;
  submit_started_at: Date | null;
}

/** A batch the poller should look at, with the state of its Job. */
export interface PollableBatch {
  job_id: string;
  provider_batch_id: string;
  processing_status: string;
  cancel_requested_at: Date | null;
  job_status: JobStatus;
}

/** What one poll learned about one batch; a failed poll carries `error` and changes nothing else. */
export interface PollUpdate {
  job_id: string;
  processing_status?: string;
  request_counts?: Record<string, number>;
  response?: unknown;
  error?: string;
  cancel_requested?: boolean;
}

/** A batch the overdue expiry ended, with what the provider last told us about it. */
export interface OverdueBatch {
  job_id: string;
  job_status: JobStatus;
  provider_batch_id: string;
  processing_status: string;
}

export interface ItemResult {
  custom_id: string;
  status: BatchItemOutcome;
  result: unknown;
  error: unknown;
}

/** An item of a batch as listed. */
export interface BatchItemRow {
  id: string;
  custom_id: string;
  status: BatchItemStatus;
  result: unknown;
  error: unknown;
  updated_at: Date;
}

/** A batch with the status and organization of its Job, as the admin list reads it. */
export type AdminBatchRow = LlmBatchRow & { status: JobStatus; organization_id: string };

/** A keyset page of a batch's items: `after`/`before` are item ids. */
export type ItemPage = KeysetQuery;

/**
 * The llm_batch_jobs / llm_batch_items tables (SPEC F8). Every write the poller makes for many rows is one
 * statement over a JSON recordset, so a cycle costs a fixed number of round trips, not one per batch or item.
 */
export class BatchStore {
  constructor(private readonly db: Db) {}

  /** Creates the batch row and its items (request order kept in `seq`); repeating it changes nothing. */
  async prepare(jobId: string, requests: readonly BatchRequest[]): Promise<void> {
    const rows = requests.map((r, seq) => ({ seq, custom_id: r.custom_id, request: r }));
    await this.db.$transaction([
      this.db.$executeRawUnsafe(`INSERT INTO llm_batch_jobs (job_id) VALUES ($1) ON CONFLICT DO NOTHING`, jobId),
      this.db.$executeRawUnsafe(
        `INSERT INTO llm_batch_items (id, batch_job_id, seq, custom_id, request)
         SELECT 'batch_item-' || gen_random_uuid(), $1, u.seq, u.custom_id, u.request
         FROM jsonb_to_recordset($2::jsonb) AS u(seq int, custom_id text, request jsonb)
         ON CONFLICT DO NOTHING`,
        jobId,
        JSON.stringify(rows),
      ),
    ]);
  }

  async get(jobId: string): Promise<LlmBatchRow | null> {
    const rows = await this.db.$queryRawUnsafe<LlmBatchRow[]>('SELECT * FROM llm_batch_jobs WHERE job_id = $1', jobId);
    return rows[0] ?? null;
  }

  /**
   * The intent of an attempt about to create the provider batch (issue 10 item 5), written before the call:
   * a new token replaces an earlier attempt's, so that attempt's late outcome can no longer be recorded.
   * Null when an unfinalized provider batch is already recorded (nothing to submit).
   */
  async recordIntent(jobId: string, token: string): Promise<{ submit_started_at: Date } | null> {
    const rows = await this.db.$queryRawUnsafe<{ submit_started_at: Date }[]>(
      // A finalized batch (its Job re-run by its client) lets go of its provider batch: a new one replaces it.
      `UPDATE llm_batch_jobs SET submit_token = $2, submit_started_at = now(), updated_at = now(),
         provider_batch_id = CASE WHEN finalized_at IS NULL THEN provider_batch_id END
       WHERE job_id = $1 AND (provider_batch_id IS NULL OR finalized_at IS NOT NULL) RETURNING submit_started_at`,
      jobId,
      token,
    );
    return rows[0] ?? null;
  }

  /**
   * Records the provider's batch and marks every item submitted, if `token` is still the row's intent and no
   * batch is recorded yet; false otherwise (another attempt took over: the caller's batch is not the Job's).
   */
  async markSubmitted(jobId: string, batch: { id: string; processing_status: string; request_counts: object }, token: string): Promise<boolean> {
    const [written] = await this.db.$transaction([
      this.db.$executeRawUnsafe(
        `UPDATE llm_batch_jobs SET provider_batch_id = $2, processing_status = $3, request_counts = $4::jsonb,
           latest_polling_response = $5::jsonb, submitted_at = now(), updated_at = now(), last_polled_at = NULL,
           last_poll_error = NULL, cancel_requested_at = NULL, finalized_at = NULL, submit_token = NULL, submit_started_at = NULL
         WHERE job_id = $1 AND submit_token = $6 AND provider_batch_id IS NULL`,
        jobId,
        batch.id,
        batch.processing_status,
        JSON.stringify(batch.request_counts),
        JSON.stringify(batch),
        token,
      ),
      this.db.$executeRawUnsafe(
        `UPDATE llm_batch_items SET status = 'submitted', result = NULL, error = NULL, updated_at = now()
         WHERE batch_job_id = $1 AND EXISTS (SELECT 1 FROM llm_batch_jobs WHERE job_id = $1 AND provider_batch_id = $2)`,
        jobId,
        batch.id,
      ),
    ]);
    return written === 1;
  }

  async owned(providerBatchIds: readonly string[]): Promise<Set<string>> {
    if (providerBatchIds.length === 0) return new Set();
    const rows = await this.db.$queryRawUnsafe<{ provider_batch_id: string }[]>(
      `SELECT provider_batch_id FROM llm_batch_jobs WHERE provider = 'anthropic' AND provider_batch_id = ANY($1::text[])`,
      [...providerBatchIds],
    );
    return new Set(rows.map((r) => r.provider_batch_id));
  }

  /** Unfinalized, submitted batches created within the lookback, least recently polled first. */
  async listPollable(opts: { lookbackWeeks: number; limit?: number }): Promise<PollableBatch[]> {
    return this.db.$queryRawUnsafe<PollableBatch[]>(
      `SELECT b.job_id, b.provider_batch_id, b.processing_status, b.cancel_requested_at, j.status AS job_status
       FROM llm_batch_jobs b JOIN jobs j ON j.id = b.job_id
       WHERE b.finalized_at IS NULL AND b.provider_batch_id IS NOT NULL
         AND b.created_at >= now() - make_interval(weeks => $1::int)
       ORDER BY b.last_polled_at ASC NULLS FIRST, b.created_at ASC
       LIMIT $2::int`,
      opts.lookbackWeeks,
      opts.limit ?? null,
    );
  }

  /** One statement for the whole cycle: status, counts, response and last_polled_at of every polled batch. */
  async recordPolls(updates: readonly PollUpdate[]): Promise<number> {
    if (updates.length === 0) return 0;
    return this.db.$executeRawUnsafe(
      `UPDATE llm_batch_jobs b SET
         processing_status = COALESCE(u.processing_status, b.processing_status),
         request_counts = COALESCE(u.request_counts, b.request_counts),
         latest_polling_response = COALESCE(u.response, b.latest_polling_response),
         last_poll_error = u.error,
         cancel_requested_at = CASE WHEN u.cancel_requested THEN now() ELSE b.cancel_requested_at END,
         last_polled_at = now(),
         updated_at = now()
       FROM jsonb_to_recordset($1::jsonb)
         AS u(job_id text, processing_status text, request_counts jsonb, response jsonb, error text, cancel_requested boolean)
       WHERE b.job_id = u.job_id`,
      JSON.stringify(updates),
    );
  }

  /**
   * One statement per chunk of result lines; returns how many item rows changed. Only items not yet ended
   * change: an item already ended (by the overdue expiry, whose Job has recorded its counts) stays as it is,
   * so a Job's counts always match its items.
   */
  async applyResults(jobId: string, results: readonly ItemResult[]): Promise<number> {
    if (results.length === 0) return 0;
    return this.db.$executeRawUnsafe(
      `UPDATE llm_batch_items i SET status = u.status, result = u.result, error = u.error, updated_at = now()
       FROM jsonb_to_recordset($2::jsonb) AS u(custom_id text, status text, result jsonb, error jsonb)
       WHERE i.batch_job_id = $1 AND i.custom_id = u.custom_id AND i.status IN ('created', 'submitted')`,
      jobId,
      JSON.stringify(results),
    );
  }

  /** Items the provider's results file did not mention: they can no longer succeed, so they count as errored. */
  async failUnanswered(jobId: string): Promise<number> {
    return this.db.$executeRawUnsafe(
      `UPDATE llm_batch_items SET status = 'errored', updated_at = now(),
         error = '{"type": "missing_result", "message": "the provider returned no result for this request"}'::jsonb
       WHERE batch_job_id = $1 AND status IN ('created', 'submitted')`,
      jobId,
    );
  }

  async countItems(jobId: string): Promise<Record<BatchItemStatus, number>> {
    const rows = await this.db.$queryRawUnsafe<{ status: BatchItemStatus; n: number }[]>(
      'SELECT status, count(*)::int AS n FROM llm_batch_items WHERE batch_job_id = $1 GROUP BY status',
      jobId,
    );
    const counts = Object.fromEntries(BATCH_ITEM_STATUSES.map((s) => [s, 0])) as Record<BatchItemStatus, number>;
    for (const r of rows) counts[r.status] = r.n;
    return counts;
  }

  /**
   * The item counts as the result of a batch Job that reached its terminal status without them (its client
   * cancelled it before the provider ended the batch): API.md gives every terminal batch Job its counts.
   * Not a transition: the status, its event and its callback stay as they were.
   */
  async fillResult(jobId: string, result: object): Promise<void> {
    await this.db.$executeRawUnsafe(
      `UPDATE jobs SET result = $2::text::jsonb, result_bytes = octet_length($2::text), updated_at = now()
       WHERE id = $1 AND job_type = 'batch' AND result IS NULL AND status IN ('completed', 'failed', 'cancelled', 'expired')`,
      jobId,
      JSON.stringify(result),
    );
  }

  /**
   * Unfinalized batches submitted more than `olderThanMs` ago (the provider should have ended them long
   * since), at most `limit`, with their items not yet ended marked `expired` in the same statement.
   */
  async expireOverdue(olderThanMs: number, limit: number, reason: string): Promise<OverdueBatch[]> {
    return this.db.$queryRawUnsafe<OverdueBatch[]>(
      `WITH due AS (
         SELECT b.job_id, j.status AS job_status, b.provider_batch_id, b.processing_status FROM llm_batch_jobs b JOIN jobs j ON j.id = b.job_id
         WHERE b.finalized_at IS NULL AND b.provider_batch_id IS NOT NULL
           AND b.submitted_at < now() - make_interval(secs => $1::double precision / 1000)
         ORDER BY b.submitted_at LIMIT $2::int
       ), items AS (
         UPDATE llm_batch_items i SET status = 'expired', result = NULL, updated_at = now(),
           error = jsonb_build_object('type', 'expired', 'message', $3::text)
         FROM due WHERE i.batch_job_id = due.job_id AND i.status IN ('created', 'submitted')
       )
       SELECT job_id, job_status, provider_batch_id, processing_status FROM due`,
      olderThanMs,
      limit,
      reason,
    );
  }

  /** Batches whose Job has its terminal status (or never will from us): the poller is done with them. */
  async finalize(jobIds: readonly string[]): Promise<void> {
    if (jobIds.length === 0) return;
    await this.db.$executeRawUnsafe(`UPDATE llm_batch_jobs SET finalized_at = now(), updated_at = now() WHERE job_id = ANY($1::text[])`, [...jobIds]);
  }

  /** A page of a batch's items in request order (the caller has already checked access to the Job). */
  async listItems(jobId: string, page: ItemPage): Promise<BatchItemRow[]> {
    return keysetPage<BatchItemRow>(this.db, {
      from: 'llm_batch_items',
      select: 'id, custom_id, status, result, error, updated_at',
      key: ['seq'],
      scope: { batch_job_id: jobId },
      query: page,
      unknownCursor: 'unknown item id in this batch',
    });
  }

  /** Batches with their polling state, newest first: an admin's organization, or any (or one) for an operator. */
  async listForAdmin(actor: Actor, opts: { organizationId?: string; limit: number; after?: string }): Promise<AdminBatchRow[]> {
    const org = actor.role === 'operator' ? opts.organizationId : actor.organizationId;
    return keysetPage<AdminBatchRow>(this.db, {
      from: '(SELECT b.*, j.status, j.organization_id FROM llm_batch_jobs b JOIN jobs j ON j.id = b.job_id)',
      select: '*',
      key: ['created_at', 'job_id'],
      idColumn: 'job_id',
      scope: org ? { organization_id: org } : {},
      // An operator's cursor may be any batch; anyone else's must be of their organization.
      cursorScope: actor.role === 'operator' ? {} : { organization_id: actor.organizationId },
      query: { order: 'desc', limit: opts.limit, after: opts.after },
      unknownCursor: 'unknown batch job id',
    });
  }
}
