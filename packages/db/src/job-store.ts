import {
  ACTIVE_STATUSES,
  ConflictError,
  NotFoundError,
  RETRYABLE_STATUSES,
  canSeeOrganization,
  isTerminal,
  lostAttemptVerdict,
  type Actor,
  type CreateJobBody,
  type JobStatus,
  type JobType,
  type ListJobsQuery,
  type LostAttemptVerdict,
  type RunRecord,
} from '@jobs/core';
import { reportBackgroundError } from '@jobs/observability';
import { Batcher, HOT_PATH_BATCHING } from './batcher';
import { rawRows, type Db } from './client';
import { insertJobRows, type InsertValues } from './job-inserter';
import { createJobRows, idempotencyHash, newRowValues } from './new-job-rows';
import { jobListSelect } from './job-list-values';
import { keysetPage, type Bind } from './keyset-page';
import { TransitionWriter } from './transition-writer';
import { handOffJobs, recordTimings, reportProgress, retryJobs } from './sql';
import { type JobError, type JobEvent, type JobProgress, type JobRow, iso } from './job-row';
import { listMessages, listSteps, stepOwner, type MessageRow, type RunPage, type StepRow } from './run-records';

export interface CreateJobInput extends Omit<CreateJobBody, 'wait_ms'> {
  job_type?: JobType;
}

export interface TransitionOptions {
  /** Statuses the row may be in; defaults to every status the state machine allows into `to`. */
  from?: readonly JobStatus[];
  /** The attempt fence: the write happens only while `attempts` still equals this. */
  attempt?: number;
  workerId?: string | null;
  reason?: string | null;
  result?: unknown;
  error?: JobError | null;
  stopReason?: string | null;
  runAt?: Date | null;
  /** With `to: 'completed'`: the run's step and messages, inserted by the same statement (SPEC F9). */
  run?: RunRecord;
  /** Guard: only while `expires_at` has not passed (checked by the same statement, so start and expiry never race). */
  unlessExpired?: boolean;
  /**
   * Only with `to: 'running'` and `created` among `from`: a row still `created` (its enqueuer has not
   * written `pending` yet) is started through `pending` by the same statement, which appends both events
   * (created → pending, reason `queued`, then pending → running), so every history reads the same.
   */
  throughPending?: boolean;
}

export interface LostAttemptOptions {
  /** MAX_STALLED_COUNT: lost attempts re-run beyond max_attempts before the job fails `worker_lost`. */
  maxStalledCount: number;
  workerId?: string | null;
  /** Why the attempt is taken to be lost (stall checker, reconciler, ...), kept in the event. */
  reason: string;
  /** The row as the caller just read it; read here when absent. */
  row?: JobRow;
}

/** What a listener hears after every status write that won its guard. */
export interface TransitionNotice {
  job: JobRow;
  event: JobEvent;
}

type Listener = (notice: TransitionNotice) => void;

const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * The service object over the jobs table (SPEC F3). Status writes are single guarded statements:
 * `UPDATE ... WHERE status = ANY(allowed) AND attempts = fence`, with the job_events row appended by
 * the same statement, so a late or duplicate writer changes nothing and leaves no event behind.
 */
export class JobStore {
  private readonly listeners: Listener[] = [];
  private listSelectList: Promise<string> | undefined;

  /** Guarded status writes, batched across concurrent callers (one statement per batch). */
  private readonly writer: TransitionWriter;
  /** Row reads by id, batched the same way (the worker reads every job it takes). */
  private readonly reader: Batcher<string, JobRow | null>;
  /** New rows, batched the same way. */
  private readonly inserter: Batcher<InsertValues, JobRow>;

  constructor(private readonly db: Db) {
    this.writer = new TransitionWriter(db);
    this.reader = new Batcher<string, JobRow | null>(
      async (ids) => {
        const rows = await rawRows<JobRow>(db, 'SELECT * FROM jobs WHERE id = ANY($1::text[])', [ids]);
        const byId = new Map(rows.map((r) => [r.id, r]));
        return ids.map((id) => byId.get(id) ?? null);
      },
      HOT_PATH_BATCHING,
    );
    this.inserter = new Batcher<InsertValues, JobRow>((rows) => insertJobRows(db, rows), HOT_PATH_BATCHING);
  }

  onTransition(listener: Listener): void {
    this.listeners.push(listener);
  }

  /**
   * `refuseNew`, when given, is thrown instead of inserting a row: an idempotent replay (or its 409) is
   * still answered, decided under the same lock as the insert would be.
   */
  async create(actor: Actor, input: CreateJobInput, opts: { refuseNew?: () => Error } = {}): Promise<{ job: JobRow; created: boolean }> {
    const key = input.idempotency_key;
    const hash = idempotencyHash(input);
    const insert = (q: Db | Parameters<Parameters<Db['$transaction']>[0]>[0]) => {
      if (opts.refuseNew) throw opts.refuseNew();
      return this.insertRow(q as Db, actor, input, hash);
    };
    if (!key) {
      const job = await insert(this.db);
      this.emit(job, null, null, null);
      return { job, created: true };
    }
    const outcome = await this.db.$transaction(async (tx) => {
      // One creator per (organization, key) at a time; the window check and insert are then race-free.
      await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock(hashtext($1))', `${actor.organizationId}:${key}`);
      const found = await tx.$queryRawUnsafe<JobRow[]>(
        `SELECT * FROM jobs WHERE organization_id = $1 AND idempotency_key = $2 AND created_at > $3
         ORDER BY created_at DESC LIMIT 1`,
        actor.organizationId,
        key,
        new Date(Date.now() - IDEMPOTENCY_WINDOW_MS),
      );
      const existing = found[0];
      if (existing) {
        if (existing.idempotency_hash !== hash) {
          throw new ConflictError(`idempotency_key "${key}" was already used with a different request body`);
        }
        return { job: existing, created: false };
      }
      return { job: await insert(tx as unknown as Db), created: true };
    });
    if (outcome.created) this.emit(outcome.job, null, null, null);
    return outcome;
  }

  /**
   * Many jobs at once, all or nothing (POST /api/jobs/bulk): one insert statement for every new row and its
   * `created` event. An item whose idempotency_key was used before with the same body answers that job, as do
   * repeats of a key within `inputs`; a key used with another body is a 409 and nothing is written.
   */
  async createMany(actor: Actor, inputs: readonly CreateJobInput[]): Promise<{ job: JobRow; created: boolean }[]> {
    const items = inputs.map((input) => {
      const hash = idempotencyHash(input);
      return { key: input.idempotency_key ?? null, hash, values: newRowValues(actor, input, hash) };
    });
    const outcomes = await createJobRows(this.db, actor, items, new Date(Date.now() - IDEMPOTENCY_WINDOW_MS));
    for (const o of outcomes) if (o.created) this.emit(o.job, null, null, null);
    return outcomes;
  }

  /** `transition` for many rows to one status, as one statement; null where a row's guard failed. */
  async transitionMany(ids: readonly string[], to: JobStatus, opts: Pick<TransitionOptions, 'from' | 'reason' | 'workerId'> = {}): Promise<(JobRow | null)[]> {
    const written = await this.writer.writeMany(ids, to, opts);
    for (const w of written) if (w) this.emit(w.job, w.prev, opts.workerId ?? null, opts.reason ?? null);
    return written.map((w) => w?.job ?? null);
  }

  private async insertRow(q: Db, actor: Actor, input: CreateJobInput, hash: string | null): Promise<JobRow> {
    const values = newRowValues(actor, input, hash);
    // Creates outside a transaction share statements with their concurrent neighbours.
    if (q === this.db) return this.inserter.add(values);
    return (await insertJobRows(q, [values]))[0]!;
  }

  /** A job of the caller's organization (any organization for an operator), or a 404. */
  async get(actor: Actor, id: string): Promise<JobRow> {
    const job = await this.findById(id);
    if (!job || !canSeeOrganization(actor, job.organization_id)) throw new NotFoundError(`Job ${id} not found`);
    return job;
  }

  /** The list's select list, read from the catalog once (a failed read is retried by the next list). */
  private listSelect(): Promise<string> {
    this.listSelectList ??= jobListSelect(this.db).catch((err: unknown) => {
      this.listSelectList = undefined;
      throw err;
    });
    return this.listSelectList;
  }

  async findById(id: string): Promise<JobRow | null> {
    return this.reader.add(id);
  }

  async list(actor: Actor, query: ListJobsQuery, opts: { activeOnly?: boolean } = {}): Promise<JobRow[]> {
    const org = query.organization_id && actor.role === 'operator' ? query.organization_id : actor.organizationId;
    let statuses = query.status;
    if (opts.activeOnly) {
      const active: readonly JobStatus[] = ACTIVE_STATUSES;
      statuses = statuses ? statuses.filter((s) => active.includes(s)) : [...active];
    }
    const filters = (bind: Bind) => {
      const where: string[] = [];
      if (statuses) where.push(`k.status = ANY(${bind(statuses)}::text[])`);
      if (query.task) where.push(`k.task = ${bind(query.task)}`);
      if (query.agent_id) where.push(`k.agent_id = ${bind(query.agent_id)}`);
      if (query.source_id) where.push(`k.source_id = ${bind(query.source_id)}`);
      if (query.background !== undefined) where.push(`k.background = ${bind(query.background)}`);
      if (query.stop_reason) where.push(`k.stop_reason = ${bind(query.stop_reason)}`);
      if (query.user_id) where.push(`k.user_id = ${bind(query.user_id)}`);
      if (query.created_after) where.push(`k.created_at >= ${bind(query.created_after)}`);
      if (query.created_before) where.push(`k.created_at <= ${bind(query.created_before)}`);
      return where;
    };
    // Through the pg pool: mapping 100 wide rows is where Prisma's raw layer cost most on this route.
    // input and result past 16 KiB are replaced in the query itself, so they never leave Postgres.
    return keysetPage<JobRow>(this.db, {
      from: 'jobs',
      select: await this.listSelect(),
      key: ['created_at', 'id'],
      scope: { organization_id: org, job_type: query.job_type },
      filters,
      query,
      unknownCursor: 'unknown job id',
    });
  }

  async events(actor: Actor, id: string, afterSeq = 0): Promise<JobEvent[]> {
    await this.get(actor, id);
    return this.eventsOf(id, afterSeq);
  }

  async eventsOf(id: string, afterSeq = 0): Promise<JobEvent[]> {
    const rows = await this.db.$queryRawUnsafe<
      { seq: number; from_status: JobStatus | null; to_status: JobStatus; at: Date; attempt: number; worker_id: string | null; reason: string | null }[]
    >('SELECT seq, from_status, to_status, at, attempt, worker_id, reason FROM job_events WHERE job_id = $1 AND seq > $2 ORDER BY seq', id, afterSeq);
    return rows.map((r) => ({
      seq: r.seq,
      from: r.from_status,
      to: r.to_status,
      at: iso(r.at)!,
      attempt: r.attempt,
      worker_id: r.worker_id,
      reason: r.reason,
    }));
  }

  /**
   * The guarded status write. Returns the updated row, or null when the guard failed (the row moved on,
   * or a newer attempt owns it): callers treat null as "someone else already decided".
   */
  async transition(id: string, to: JobStatus, opts: TransitionOptions = {}): Promise<JobRow | null> {
    const written = await this.writer.write(id, to, opts);
    if (!written) return null;
    const { job, prev } = written;
    if (to === 'running' && opts.throughPending && prev === 'created') {
      const queued = { ...job, status: 'pending' as const, event_seq: job.event_seq - 1, attempts: job.attempts - 1 };
      this.emit(queued, 'created', opts.workerId ?? null, 'queued');
      this.emit(job, 'pending', opts.workerId ?? null, opts.reason ?? null);
    } else {
      this.emit(job, prev, opts.workerId ?? null, opts.reason ?? null);
    }
    return job;
  }

  /**
   * Closes attempt `attempt` of a `running` row whose worker is gone: back to `pending` (the caller runs or
   * requeues it) while the attempt budget lasts, else `failed` with stop_reason `worker_lost`. Every path that
   * re-runs a lost attempt (stall checker pick-up, reconciler) decides here. Null when the row moved on.
   */
  async recoverLostAttempt(id: string, attempt: number, opts: LostAttemptOptions): Promise<{ verdict: LostAttemptVerdict; job: JobRow } | null> {
    const row = opts.row ?? (await this.findById(id));
    if (!row || row.status !== 'running' || row.attempts !== attempt) return null;
    const verdict = lostAttemptVerdict(attempt, row.max_attempts, opts.maxStalledCount);
    const fence = { from: ['running'] as const, attempt, workerId: opts.workerId ?? null };
    if (verdict === 'retry') {
      const job = await this.transition(id, 'pending', { ...fence, reason: opts.reason });
      return job ? { verdict, job } : null;
    }
    const message = `attempt ${attempt} lost with its worker; no attempts left (max_attempts ${row.max_attempts} + MAX_STALLED_COUNT ${opts.maxStalledCount})`;
    const job = await this.transition(id, 'failed', { ...fence, stopReason: 'worker_lost', error: { message, code: 'worker_lost' }, reason: `${opts.reason}: ${message}` });
    return job ? { verdict, job } : null;
  }

  /** Cancels from created/pending/running; a terminal job is a 409 naming its status. */
  async cancel(actor: Actor, id: string, reason = 'cancelled by client'): Promise<JobRow> {
    const job = await this.get(actor, id);
    if (isTerminal(job.status)) throw new ConflictError(`Job ${id} is already ${job.status}`);
    const done = await this.transition(id, 'cancelled', { reason, stopReason: 'cancelled' });
    if (done) return done;
    const now = await this.get(actor, id);
    throw new ConflictError(`Job ${id} is already ${now.status}`);
  }

  /** A new attempt of a failed/cancelled/expired job: back to pending with the outcome fields reset. */
  async retry(actor: Actor, id: string): Promise<JobRow> {
    const job = await this.get(actor, id);
    const rows = await rawRows<JobRow & { prev_status: JobStatus }>(this.db, retryJobs, [[id], [...RETRYABLE_STATUSES]]);
    const row = rows[0];
    if (!row) throw new ConflictError(`Job ${id} is ${job.status}; only failed, cancelled or expired jobs can be retried`);
    const { prev_status: prev, ...updated } = row;
    this.emit(updated, prev, null, 'retry requested');
    return updated;
  }

  /** Removes a row that was never queued (its create failed half-way), so the reconciler cannot run it. */
  async discardCreated(id: string): Promise<boolean> {
    return (await this.db.$executeRawUnsafe(`DELETE FROM jobs WHERE id = $1 AND status = 'created'`, id)) > 0;
  }

  async delete(actor: Actor, id: string): Promise<JobRow> {
    let job = await this.get(actor, id);
    if (!isTerminal(job.status)) {
      job = (await this.transition(id, 'cancelled', { reason: 'deleted by client', stopReason: 'cancelled' })) ?? (await this.get(actor, id));
    }
    await this.db.$executeRawUnsafe('DELETE FROM jobs WHERE id = $1', id);
    return job;
  }

  /**
   * The running attempt's task finished its part, and someone else (`owner`) will write the terminal status:
   * the row stays `running`, and the reconciler must not mistake its finished BullMQ job for a lost one.
   */
  async handOff(id: string, attempt: number, owner: string): Promise<boolean> {
    return (await rawRows(this.db, handOffJobs, [[id], [attempt], [owner]])).length > 0;
  }

  /** Status and attempt of several rows in one query (the worker's check of the attempts it runs). */
  async attemptStates(ids: string[]): Promise<{ id: string; status: JobStatus; attempts: number }[]> {
    if (ids.length === 0) return [];
    return rawRows<{ id: string; status: JobStatus; attempts: number }>(this.db, 'SELECT id, status, attempts FROM jobs WHERE id = ANY($1::text[])', [ids]);
  }

  /** Progress of the running attempt; a stale attempt's report is dropped by the fence. */
  async reportProgress(id: string, attempt: number, progress: JobProgress): Promise<boolean> {
    return (await rawRows(this.db, reportProgress, [[id], [attempt], [JSON.stringify(progress)]])).length > 0;
  }

  /** The seeds' record_ttft: the running attempt's time to first token (a stale attempt's is dropped by the fence). */
  async recordTtft(id: string, attempt: number, ttftNs: bigint): Promise<void> {
    await rawRows(this.db, recordTimings, [[id], [attempt], [ttftNs.toString()], [null]]);
  }

  /** The seeds' record_response_duration: the running attempt's total response time. */
  async recordResponseDuration(id: string, attempt: number, durationNs: bigint): Promise<void> {
    await rawRows(this.db, recordTimings, [[id], [attempt], [null], [durationNs.toString()]]);
  }

  /** A run of the caller's organization, or a 404 (a job of another type is not a run). */
  async getRun(actor: Actor, id: string): Promise<JobRow> {
    const job = await this.get(actor, id);
    if (job.job_type !== 'run') throw new NotFoundError(`Run ${id} not found`);
    return job;
  }

  /** The seeds' get_run_messages: a run's messages in conversation order, one keyset page. */
  async getRunMessages(actor: Actor, runId: string, page: RunPage): Promise<MessageRow[]> {
    await this.getRun(actor, runId);
    return listMessages(this.db, runId, null, page);
  }

  /** The seeds' get_job_steps: a run's steps in creation order, one keyset page. */
  async getJobSteps(actor: Actor, runId: string, page: RunPage): Promise<StepRow[]> {
    await this.getRun(actor, runId);
    return listSteps(this.db, runId, page);
  }

  /** The seeds' get_step_messages: the messages of one step; another organization's step is a 404. */
  async getStepMessages(actor: Actor, stepId: string, page: RunPage): Promise<MessageRow[]> {
    const owner = await stepOwner(this.db, stepId);
    if (!owner || !canSeeOrganization(actor, owner.organization_id)) throw new NotFoundError(`Step ${stepId} not found`);
    return listMessages(this.db, owner.job_id, stepId, page);
  }

  private emit(job: JobRow, from: JobStatus | null, workerId: string | null, reason: string | null): void {
    if (this.listeners.length === 0) return;
    const event: JobEvent = { seq: job.event_seq, from, to: job.status, at: iso(job.updated_at)!, attempt: job.attempts, worker_id: workerId, reason };
    for (const l of this.listeners) {
      try {
        l({ job, event });
      } catch (err) {
        // A listener's failure must not undo a committed transition; it is counted and logged instead.
        reportBackgroundError('job_listener', err);
      }
    }
  }
}
