import { TERMINAL_STATUSES } from '@jobs/core';
import { Batcher, HOT_PATH_BATCHING } from './batcher';
import { activeSigningSecrets, type SigningColumns } from './account-manager';
import { rawRows, type Db } from './client';
import type { JobRow } from './job-row';

interface AttemptItem {
  jobId: string;
  webhookId: string;
  attempt: CallbackAttemptRecord;
}

/** Concurrent marks and records of different jobs share one statement each (one item per job in a batch). */
const MARK_ENQUEUED_SQL = `UPDATE jobs j SET callback_pending = false
  FROM unnest($1::text[], $2::text[]) AS x(id, webhook_id)
  WHERE j.id = x.id AND j.callback_webhook_id = x.webhook_id AND j.callback_pending`;

/** What a delivery attempt must know before it POSTs: the row's current series and the signing secrets. */
export interface DeliveryContext {
  /** False when the job row is gone (deleted): the callback still goes out, nothing is recorded. */
  rowExists: boolean;
  /** The series the row belongs to now (a retry of the job starts another one). */
  webhookId: string | null;
  /** Empty when the organization is gone. */
  secrets: string[];
}

interface ContextRow extends Partial<SigningColumns> {
  job_id: string;
  row_exists: boolean;
  callback_webhook_id: string | null;
  org_exists: boolean;
}

const CONTEXT_SQL = `SELECT x.job_id, j.id IS NOT NULL AS row_exists, j.callback_webhook_id, o.id IS NOT NULL AS org_exists,
    o.webhook_secret, o.previous_webhook_secret, o.previous_secret_expires_at
  FROM unnest($1::text[], $2::text[]) AS x(job_id, organization_id)
  LEFT JOIN jobs j ON j.id = x.job_id
  LEFT JOIN organizations o ON o.id = x.organization_id`;

const RECORD_ATTEMPT_SQL = `UPDATE jobs j SET callback_sent_at = now(), callback_status_code = x.status_code, callback_error = x.error,
    callback_attempts = j.callback_attempts + 1
  FROM unnest($1::text[], $2::text[], $3::int[], $4::text[]) AS x(id, webhook_id, status_code, error)
  WHERE j.id = x.id AND j.callback_webhook_id = x.webhook_id
  RETURNING j.id`;

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
  private readonly marks: Batcher<{ jobId: string; webhookId: string }, void>;
  private readonly attempts: Batcher<AttemptItem, boolean>;
  private readonly contexts: Batcher<{ jobId: string; organizationId: string }, DeliveryContext>;

  constructor(private readonly db: Db) {
    this.marks = new Batcher<{ jobId: string; webhookId: string }, void>(
      async (items) => {
        await rawRows(db, MARK_ENQUEUED_SQL, [items.map((i) => i.jobId), items.map((i) => i.webhookId)], { prepare: true });
        return items.map(() => undefined);
      },
      HOT_PATH_BATCHING,
      (i) => i.jobId,
    );
    this.attempts = new Batcher(
      async (items) => {
        const rows = await rawRows<{ id: string }>(
          db,
          RECORD_ATTEMPT_SQL,
          [items.map((i) => i.jobId), items.map((i) => i.webhookId), items.map((i) => i.attempt.statusCode), items.map((i) => i.attempt.error)],
          { prepare: true },
        );
        const written = new Set(rows.map((r) => r.id));
        return items.map((i) => written.has(i.jobId));
      },
      HOT_PATH_BATCHING,
      (i) => i.jobId,
    );
    this.contexts = new Batcher(
      async (items) => {
        const rows = await rawRows<ContextRow>(db, CONTEXT_SQL, [items.map((i) => i.jobId), items.map((i) => i.organizationId)], { prepare: true });
        const byJob = new Map(rows.map((r) => [r.job_id, r]));
        return items.map((i) => {
          const r = byJob.get(i.jobId);
          const secrets = r?.org_exists && r.webhook_secret ? activeSigningSecrets(r as SigningColumns) : [];
          return { rowExists: r?.row_exists ?? false, webhookId: r?.callback_webhook_id ?? null, secrets };
        });
      },
      HOT_PATH_BATCHING,
      (i) => i.jobId,
    );
  }

  /** The row's series and the organization's secrets in one read, fresh for every attempt (a rotation applies at once). */
  async deliveryContext(jobId: string, organizationId: string): Promise<DeliveryContext> {
    return this.contexts.add({ jobId, organizationId });
  }

  /** The series is in the callbacks queue now; the sweep stops looking at the row. */
  async markEnqueued(jobId: string, webhookId: string): Promise<void> {
    await this.marks.add({ jobId, webhookId });
  }

  /** Records an attempt; false when the row is gone or belongs to a newer series (nothing written). */
  async recordAttempt(jobId: string, webhookId: string, attempt: CallbackAttemptRecord): Promise<boolean> {
    return this.attempts.add({ jobId, webhookId, attempt });
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
