import { Batcher, HOT_PATH_BATCHING } from './batcher';
import { activeSigningSecrets, type SigningColumns } from './account-store';
import { rawRows, type Db } from './client';

/**
 * Where a delivery series stands (`callback_deliveries.state`): `pending` until it is in the callbacks
 * queue, `queued` while attempts remain, then `delivered` or `failed` (410, refused, exhausted, or its
 * organization gone).
 */
export type DeliveryState = 'pending' | 'queued' | 'delivered' | 'failed';

/**
 * One delivery series (a `callback_deliveries` row), written by the statement of the terminal transition
 * it reports; its snapshot is all the callback body needs, so it outlives the job row.
 */
export interface DeliveryRow {
  webhook_id: string;
  job_id: string;
  organization_id: string;
  job_attempt: number;
  callback_url: string;
  status: string;
  stop_reason: string | null;
  completed_at: Date | null;
  metadata: Record<string, unknown>;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: Date;
}

/** What one delivery attempt left behind (SPEC F6: recorded on the job, whatever the outcome). */
export interface CallbackAttemptRecord {
  /** The HTTP status that came back; null when no response arrived (refused, network error, timeout). */
  statusCode: number | null;
  /** Why the attempt did not count as delivered; null on 2xx. */
  error: string | null;
  /** The series' state after this attempt; `queued` when another attempt follows at `nextAttemptAt`. */
  state?: Exclude<DeliveryState, 'pending'>;
  nextAttemptAt?: Date | null;
  /** When the attempt started (the attempt log's `at`); the time of the write when absent. */
  startedAt?: Date;
  /** How long the exchange took, up to the last byte read. */
  durationMs?: number;
  /** The first bytes of the response body (bounded by the sender), for the attempt log. */
  responseExcerpt?: string | null;
}

interface AttemptItem {
  jobId: string;
  webhookId: string;
  attempt: CallbackAttemptRecord;
}

/** What a delivery attempt must know before it POSTs: the organization's signing secrets. */
export interface DeliveryContext {
  /** Empty when the organization is gone. */
  secrets: string[];
}

interface ContextRow extends Partial<SigningColumns> {
  organization_id: string;
  org_exists: boolean;
}

/** Concurrent marks and records of different series share one statement each. */
const MARK_ENQUEUED_SQL = `WITH x AS (SELECT * FROM unnest($1::text[], $2::text[]) AS x(id, webhook_id)),
  d AS (UPDATE callback_deliveries c SET state = 'queued', updated_at = now() FROM x WHERE c.webhook_id = x.webhook_id AND c.state = 'pending')
  UPDATE jobs j SET callback_pending = false FROM x
  WHERE j.id = x.id AND j.callback_webhook_id = x.webhook_id AND j.callback_pending`;

const CONTEXT_SQL = `SELECT x.organization_id, o.id IS NOT NULL AS org_exists,
    o.webhook_secret, o.previous_webhook_secret, o.previous_secret_expires_at
  FROM unnest($1::text[]) AS x(organization_id)
  LEFT JOIN organizations o ON o.id = x.organization_id`;

/**
 * The series row always takes the attempt, and the attempt log a row numbered by the series' own count; the
 * job row only while it still belongs to this series (a retry of the job starts another one, and the old
 * series, still delivered, must not write over its fields). One statement for all three: the path is hot.
 */
const RECORD_ATTEMPT_SQL = `WITH x AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::int[], $9::text[])
      AS x(id, webhook_id, status_code, error, state, next_at, started_at, duration_ms, excerpt)
  ), d AS (
    UPDATE callback_deliveries c SET attempts = c.attempts + 1, state = COALESCE(x.state, c.state),
      next_attempt_at = COALESCE(x.next_at, c.next_attempt_at), last_attempt_at = now(), last_status_code = x.status_code,
      last_error = x.error, updated_at = now()
    FROM x WHERE c.webhook_id = x.webhook_id
    RETURNING c.webhook_id, c.job_id, c.attempts
  ), a AS (
    INSERT INTO callback_attempts (webhook_id, attempt, job_id, at, status_code, error, duration_ms, response_excerpt)
    SELECT d.webhook_id, d.attempts, d.job_id, COALESCE(x.started_at, now()), x.status_code, x.error, x.duration_ms, x.excerpt
    FROM d JOIN x ON x.webhook_id = d.webhook_id
  )
  UPDATE jobs j SET callback_sent_at = now(), callback_status_code = x.status_code, callback_error = x.error,
    callback_attempts = j.callback_attempts + 1, callback_pending = false
  FROM x WHERE j.id = x.id AND j.callback_webhook_id = x.webhook_id
  RETURNING j.id`;

const DELIVERY_COLUMNS = `webhook_id, job_id, organization_id, job_attempt, callback_url, status, stop_reason, completed_at, metadata, state, attempts, next_attempt_at`;

/**
 * Delivery series (`callback_deliveries`) and the callback columns of `jobs`. A series row is created by
 * the terminal transition's own statement (TransitionWriter); from then on the sweep finds it until it
 * ends, whatever happened to the job. Writes to `jobs` are keyed by (job id, webhook-id) and never
 * change `status`.
 */
export class CallbackStore {
  private readonly marks: Batcher<{ jobId: string; webhookId: string }, void>;
  private readonly attempts: Batcher<AttemptItem, boolean>;
  private readonly contexts: Batcher<string, DeliveryContext>;

  constructor(private readonly db: Db) {
    this.marks = new Batcher<{ jobId: string; webhookId: string }, void>(
      async (items) => {
        await rawRows(db, MARK_ENQUEUED_SQL, [items.map((i) => i.jobId), items.map((i) => i.webhookId)], { prepare: true });
        return items.map(() => undefined);
      },
      HOT_PATH_BATCHING,
      (i) => i.webhookId,
    );
    this.attempts = new Batcher(
      async (items) => {
        const rows = await rawRows<{ id: string }>(
          db,
          RECORD_ATTEMPT_SQL,
          [
            items.map((i) => i.jobId),
            items.map((i) => i.webhookId),
            items.map((i) => i.attempt.statusCode),
            items.map((i) => i.attempt.error),
            items.map((i) => i.attempt.state ?? null),
            items.map((i) => i.attempt.nextAttemptAt ?? null),
            items.map((i) => i.attempt.startedAt ?? null),
            items.map((i) => Math.max(0, Math.round(i.attempt.durationMs ?? 0))),
            items.map((i) => i.attempt.responseExcerpt ?? null),
          ],
          { prepare: true },
        );
        const written = new Set(rows.map((r) => r.id));
        return items.map((i) => written.has(i.jobId));
      },
      HOT_PATH_BATCHING,
      // Two series of one job (before and after a retry) must not share a statement: one UPDATE per job row.
      (i) => i.jobId,
    );
    this.contexts = new Batcher(
      async (orgIds) => {
        const rows = await rawRows<ContextRow>(db, CONTEXT_SQL, [orgIds], { prepare: true });
        const byOrg = new Map(rows.map((r) => [r.organization_id, r]));
        return orgIds.map((id) => {
          const r = byOrg.get(id);
          return { secrets: r?.org_exists && r.webhook_secret ? activeSigningSecrets(r as SigningColumns) : [] };
        });
      },
      // Attempts of one organization in flight together share one read of its secrets.
      { ...HOT_PATH_BATCHING, repeats: 'share' },
      (id) => id,
    );
  }

  /** The organization's secrets, fresh for every attempt (a rotation applies at once). */
  async deliveryContext(_jobId: string, organizationId: string): Promise<DeliveryContext> {
    return this.contexts.add(organizationId);
  }

  /**
   * The series is in the callbacks queue now; the sweep stops looking for it until it is overdue. The writer's
   * own enqueue skips this: its first attempt's record (recordAttempt) ends `pending` as well, normally well
   * within the sweep's grace. The sweep and redelivery, whose series may wait longer, mark it.
   */
  async markEnqueued(jobId: string, webhookId: string): Promise<void> {
    await this.marks.add({ jobId, webhookId });
  }

  /**
   * A manual redelivery: the series is `queued` again (created from the snapshot when it predates the
   * series table), due now.
   */
  async reopen(series: Omit<DeliveryRow, 'state' | 'attempts' | 'next_attempt_at'>): Promise<void> {
    await this.db.$executeRawUnsafe(
      `INSERT INTO callback_deliveries (webhook_id, job_id, organization_id, job_attempt, callback_url, status, stop_reason, completed_at, metadata, state, next_attempt_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, 'queued', now())
       ON CONFLICT (webhook_id) DO UPDATE SET state = 'queued', next_attempt_at = now(), updated_at = now()`,
      series.webhook_id,
      series.job_id,
      series.organization_id,
      series.job_attempt,
      series.callback_url,
      series.status,
      series.stop_reason,
      series.completed_at,
      JSON.stringify(series.metadata),
    );
  }

  /** Records an attempt on the series; true when the job row was written too (it still belongs to this series). */
  async recordAttempt(jobId: string, webhookId: string, attempt: CallbackAttemptRecord): Promise<boolean> {
    return this.attempts.add({ jobId, webhookId, attempt });
  }

  /**
   * Series that never reached the queue (the writer died between commit and enqueue, Redis was down, or
   * the job was deleted or retried meanwhile), oldest first. `graceMs` leaves the writer's own enqueue time.
   */
  async findUnqueued(graceMs: number, limit: number): Promise<DeliveryRow[]> {
    return this.findLate('pending', graceMs, limit);
  }

  /** Queued series whose next attempt is more than `marginMs` overdue: their queue entry may be gone. */
  async findOverdue(marginMs: number, limit: number): Promise<DeliveryRow[]> {
    return this.findLate('queued', marginMs, limit);
  }

  /** Series in `state` whose next attempt is more than `lateMs` past, oldest first. */
  private findLate(state: 'pending' | 'queued', lateMs: number, limit: number): Promise<DeliveryRow[]> {
    return this.db.$queryRawUnsafe<DeliveryRow[]>(
      `SELECT ${DELIVERY_COLUMNS} FROM callback_deliveries
       WHERE state = $1 AND next_attempt_at < now() - make_interval(secs => $2::double precision / 1000)
       ORDER BY next_attempt_at LIMIT $3`,
      state,
      lateMs,
      limit,
    );
  }

  /**
   * The sweep's verdict on overdue queued series: `queued` postpones the next look (the entry is alive,
   * merely behind a backlog); `delivered`/`failed` settle a series whose last outcome was not recorded.
   */
  async settle(webhookIds: string[], state: Exclude<DeliveryState, 'pending'>): Promise<void> {
    if (webhookIds.length === 0) return;
    await this.db.$executeRawUnsafe(
      `UPDATE callback_deliveries SET state = $2, next_attempt_at = now(), updated_at = now() WHERE webhook_id = ANY($1::text[]) AND state = 'queued'`,
      webhookIds,
      state,
    );
  }
}
