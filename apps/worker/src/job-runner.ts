import { hostname } from 'node:os';
import { DelayedError, WaitingError, Worker, type Job as BullJob } from 'bullmq';
import { type RedisClient as Redis, JOBS_QUEUE, type JobBus, type CancelMessage, type JobQueueData, WORKER_RUN_RETRY_DELAY_MS, type FairScheduler, type FairSlot } from '@jobs/queue';
import { MAX_ATTEMPTS_CAP, TaskError, isDependencyDown, isPermanent, isTerminal, fieldErrorsFromIssues } from '@jobs/core';
import type { JobStore, JobRow } from '@jobs/db';
import { abandonedHandlers, abandonedHandlersTotal, jobDuration, withLogContext, type Logger } from '@jobs/observability';
import type { TaskClients, TaskOutput, TaskRegistry } from '@jobs/tasks';
import { AttemptWatch, type AttemptState, type WatchedAttempt } from './attempt-watch';
import { fullJitterBackoff } from './backoff';

export interface JobRunnerOptions {
  connection: Redis;
  prefix: string;
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  /** MAX_STALLED_COUNT: lost attempts re-run beyond max_attempts (SPEC F4). */
  maxStalledCount: number;
  workerId?: string;
  /** FAIR_SCHEDULING on: a delivery runs only when fair dispatch made it and its concurrency slots are held. */
  fair?: FairScheduler;
}

/** Hand-back delay for a job picked up while Postgres is unreachable: min + full jitter, growing per failure. */
const POSTGRES_BACKOFF_MIN_MS = 1000;
const POSTGRES_BACKOFF_MAX_MS = 15_000;
const OUTCOME_WRITE_PATIENCE_MS = 60_000;
/** How long an aborted handler may take to unwind before it counts as abandoned. */
const ABANDON_GRACE_MS = 1000;

/** `superseded`: the row left `running` for this attempt without a cancel (deleted, taken over by a newer attempt). */
type AbortCause = 'cancelled' | 'timeout' | 'shutdown' | 'superseded';

interface RunningAttempt {
  attempt: number;
  controller: AbortController;
}

class AttemptAborted extends Error {
  constructor(readonly why: AbortCause) {
    super(`attempt aborted: ${why}`);
  }
}

/**
 * Takes jobs off the `jobs` queue and drives each row through pending → running → terminal.
 * Every write is fenced by the attempt number, so a stalled worker that wakes up late changes nothing.
 */
export class JobRunner {
  readonly workerId: string;
  private worker?: Worker<JobQueueData>;
  private readonly running = new Map<string, RunningAttempt>();
  /** Concurrency slots held by deliveries in process (fair dispatch), renewed with the attempt watch. */
  private readonly slots = new Map<string, FairSlot>();
  private renewTimer?: NodeJS.Timeout;
  /** Deliveries sent back to staging whose entries are about to complete: a dispatch follows each completion. */
  private readonly restaged = new Set<string>();
  /** Consecutive pick-ups that failed on Postgres; the hand-back delay grows with it. */
  private dbFailures = 0;
  private readonly watch: AttemptWatch;
  /**
   * Handlers still running after their attempt ended (deaf to their signal). Their BullMQ entries are done
   * (a retry can enqueue the job again), so the worker's own capacity is lowered by their number instead.
   */
  private readonly abandoned = new Map<symbol, { done: Promise<void>; release: () => void }>();
  /** Set by `close`: capacity is no longer adjusted, the worker is going away. */
  private closing = false;
  /** Set once shutdown's grace has run out: from then on no handler is waited for. */
  private graceOver = false;

  constructor(
    private readonly jobs: JobStore,
    private readonly tasks: TaskRegistry,
    private readonly bus: JobBus,
    private readonly clients: TaskClients,
    private readonly logger: Logger,
    private readonly opts: JobRunnerOptions,
  ) {
    this.workerId = opts.workerId ?? `${hostname()}-${process.pid}`;
    // A cancel names the attempt it stops: a late message never aborts a newer attempt. A message without one
    // is left to the watch below, which reads the row.
    bus.on('cancel', (m: CancelMessage) => {
      if (typeof m.attempt === 'number') this.abortAttempt(m.job_id, m.attempt, 'cancelled');
    });
    this.watch = new AttemptWatch({
      // Half the lock duration: a missed cancel is caught within LOCK_DURATION_MS, as a dead worker would be.
      intervalMs: Math.max(250, Math.floor(opts.lockDurationMs / 2)),
      running: () => [...this.running].map(([id, r]) => ({ id, attempt: r.attempt })),
      read: (ids) => this.jobs.attemptStates(ids),
      movedOn: (a, now) => this.attemptMovedOn(a, now),
      logger,
    });
  }

  start(): void {
    // Every line logged while a job is handled carries its ids, whichever logger writes it.
    const handle = (job: BullJob<JobQueueData>, token: string | undefined) => withLogContext({ job_id: job.id, worker_id: this.workerId }, () => this.process(job, token));
    this.worker = new Worker<JobQueueData>(JOBS_QUEUE, handle, {
      connection: this.opts.connection,
      prefix: this.opts.prefix,
      concurrency: this.opts.concurrency,
      lockDuration: this.opts.lockDurationMs,
      stalledInterval: this.opts.stalledIntervalMs,
      // The row's attempt budget decides whether a lost attempt runs again (JobStore.recoverLostAttempt);
      // BullMQ's own limit is only a backstop above any budget. An entry it fails anyway leaves a `running`
      // row with a finished queue entry, which the reconciler settles through the same budget.
      maxStalledCount: MAX_ATTEMPTS_CAP + this.opts.maxStalledCount,
      skipVersionCheck: true,
      runRetryDelay: WORKER_RUN_RETRY_DELAY_MS,
    });
    this.worker.on('error', (err) => this.logger.error('job worker error', { err: err.message }));
    this.worker.on('completed', (job) => {
      if (job.id && this.restaged.delete(job.id)) this.opts.fair?.requestDispatch();
    });
    this.worker.on('failed', (job) => {
      if (job?.id) this.restaged.delete(job.id);
    });
    this.watch.start();
    const fair = this.opts.fair;
    if (fair) {
      // Half the lease, as BullMQ renews its locks: a live attempt never loses its slot, a dead worker's frees within a lease.
      this.renewTimer = setInterval(() => {
        fair.renew([...this.slots.values()]).catch((err: unknown) => this.logger.warn('slot lease renewal failed', { err: String(err) }));
      }, Math.max(250, Math.floor(this.opts.lockDurationMs / 2)));
      this.renewTimer.unref();
    }
  }

  runningJobIds(): string[] {
    return [...this.running.keys()];
  }

  /** Stops taking jobs; running ones get `graceMs` to finish, then are aborted and handed back to the queue. */
  async close(graceMs: number): Promise<void> {
    if (!this.worker) return;
    this.closing = true;
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.graceOver = true;
        for (const id of this.running.keys()) this.abort(id, 'shutdown');
        // Abandoned handlers will not return for a shutdown either: stop waiting for them.
        for (const h of this.abandoned.values()) h.release();
        resolve();
      }, graceMs);
    });
    try {
      // The attempt watch keeps running through the grace, so a cancel missed now still stops its attempt.
      // Every processor returns by the grace's end plus ABANDON_GRACE_MS and an outcome write: none waits
      // for a deaf handler.
      await this.worker.close();
      // Abandoned handlers (outcomes written, entries done) get what is left of the grace to return.
      await Promise.race([Promise.all([...this.abandoned.values()].map((h) => h.done)), graceOver]);
    } finally {
      clearTimeout(timer);
      this.graceOver = true;
      for (const h of this.abandoned.values()) h.release();
      // Awaits the check in flight too: the caller disconnects Postgres next.
      await this.watch.stop();
      if (this.renewTimer) clearInterval(this.renewTimer);
    }
  }

  private abort(jobId: string, cause: AbortCause): void {
    const r = this.running.get(jobId);
    if (r && !r.controller.signal.aborted) r.controller.abort(new AttemptAborted(cause));
  }

  /** Aborts attempt `attempt` of the job only: a newer attempt of the same job runs on. */
  private abortAttempt(jobId: string, attempt: number, cause: AbortCause): void {
    if (this.running.get(jobId)?.attempt === attempt) this.abort(jobId, cause);
  }

  private attemptMovedOn(a: WatchedAttempt, now: AttemptState | null): void {
    const cause: AbortCause = now?.status === 'cancelled' ? 'cancelled' : 'superseded';
    if (this.running.get(a.id)?.attempt !== a.attempt) return;
    this.logger.warn('running attempt stopped: its row moved on', { job_id: a.id, attempt: a.attempt, status: now?.status ?? 'deleted', row_attempt: now?.attempts ?? null, cause });
    this.abortAttempt(a.id, a.attempt, cause);
  }

  private async process(bullJob: BullJob<JobQueueData>, token: string | undefined): Promise<void> {
    let slot: FairSlot | null | undefined;
    try {
      slot = this.opts.fair ? await this.admit(this.opts.fair, bullJob) : undefined;
      if (slot === null) return;
      await this.pickUp(bullJob, token);
      this.dbFailures = 0;
    } catch (err) {
      if (isDependencyDown(err) !== 'postgres' || !token) throw err;
      // Postgres is down: hand the job back for later instead of failing it, and wait longer each time.
      this.dbFailures++;
      const delay = POSTGRES_BACKOFF_MIN_MS + fullJitterBackoff(POSTGRES_BACKOFF_MIN_MS, this.dbFailures, POSTGRES_BACKOFF_MAX_MS);
      this.logger.warn('postgres unavailable; job handed back', { job_id: bullJob.id, retry_in_ms: delay, err: String(err) });
      await this.undispatch(bullJob);
      await bullJob.moveToDelayed(Date.now() + delay, token);
      throw new DelayedError();
    } finally {
      if (slot) this.releaseSlot(slot);
    }
  }

  /**
   * Fair dispatch's gate. A delivery it made (`dispatched` in its data) runs: with a concurrency key or an
   * organization bound it first holds its slots again (kept while its lease lasts; a stalled re-run whose slot went
   * to another job finds none). Any other delivery (a retry or run_at come due, a hand-back) and one without room
   * go back to staging and wait their turn. Null: not to run here.
   */
  private async admit(fair: FairScheduler, bullJob: BullJob<JobQueueData>): Promise<FairSlot | null> {
    const id = bullJob.id!;
    const data = bullJob.data;
    if (data.dispatched) {
      const slot: FairSlot = { id, organization_id: data.organization_id, concurrency_key: data.concurrency_key ?? null, concurrency_limit: data.concurrency_limit ?? null };
      // The cheap path: nothing bounds this job, or the pick took its slots so recently that their lease (from
      // the pick) outlasts this worker's first renewal. A stalled re-run comes a lock duration later: it is checked.
      const fresh = Date.now() - bullJob.timestamp < fair.leaseMs / 4;
      if (fresh || (!slot.concurrency_key && !fair.bounded(slot.organization_id))) return this.holdSlot(slot);
      if (await fair.admit(slot)) return this.holdSlot(slot);
    }
    const row = await this.jobs.findById(id);
    if (!row || isTerminal(row.status)) return null;
    if (row.status === 'running' && row.completion_owner) return null; // handed off: its owner finishes it
    await fair.stage([{ ...row, run_at: null }]);
    // Dispatched once this delivery's entry is completed (see start): an add under its id is ignored before that.
    this.restaged.add(id);
    return null;
  }

  private holdSlot(slot: FairSlot): FairSlot {
    this.slots.set(slot.id, slot);
    return slot;
  }

  /** The attempt is over (or never started): its slots go back with the next dispatch, which this asks for. */
  private releaseSlot(slot: FairSlot): void {
    if (this.slots.get(slot.id) === slot) this.slots.delete(slot.id);
    this.opts.fair?.releaseLater(slot);
  }

  /** A delivery handed back to BullMQ (retry backoff, Postgres down, shutdown) loses its turn: when it comes back it is staged again. */
  private async undispatch(bullJob: BullJob<JobQueueData>): Promise<void> {
    if (!bullJob.data.dispatched) return;
    const { dispatched: _turn, ...data } = bullJob.data;
    await bullJob.updateData(data);
  }

  private async pickUp(bullJob: BullJob<JobQueueData>, token: string | undefined): Promise<void> {
    const id = bullJob.id!;
    // The usual case in one statement: a `pending` (or still `created`, when the API's `pending` write has not
    // landed yet) unexpired row starts its next attempt. BullMQ's lock makes this worker the job's only holder,
    // so no fence is needed here; anything else (stalled, expired, gone) takes the path below.
    const claimed = await this.jobs.transition(id, 'running', { from: ['created', 'pending'], throughPending: true, unlessExpired: true, workerId: this.workerId });
    if (claimed) {
      await this.runAttempt(claimed, bullJob, token, this.logger.child({ job_id: id, worker_id: this.workerId, attempt: claimed.attempts }));
      return;
    }
    let row = await this.jobs.findById(id);
    if (!row || isTerminal(row.status)) return; // deleted, cancelled or finished elsewhere
    const log = this.logger.child({ job_id: id, worker_id: this.workerId });

    if (row.status === 'running') {
      // The previous attempt's worker died (BullMQ found the lock expired): close that attempt first,
      // and run the job again only while its attempt budget lasts.
      const lost = row.attempts;
      const recovered = await this.jobs.recoverLostAttempt(id, lost, { row, maxStalledCount: this.opts.maxStalledCount, workerId: this.workerId, reason: 'stalled attempt recovered' });
      if (!recovered) return;
      // The lost attempt may be this process's own (its event loop stalled past the lock): stop it too.
      this.abortAttempt(id, lost, 'superseded');
      if (recovered.verdict === 'worker_lost') {
        log.error('job failed: its attempts keep losing their worker', { attempt: lost, max_attempts: row.max_attempts, max_stalled_count: this.opts.maxStalledCount });
        return;
      }
      row = recovered.job;
      log.warn('recovered stalled attempt', { attempt: lost });
    }
    if (row.status === 'created') {
      // The API (or reconciler) enqueued it and has not written `pending` yet: write it here, so every
      // history reads created → pending → running whoever wins that race (the loser's guarded write is a no-op).
      row = (await this.jobs.transition(id, 'pending', { from: ['created'], workerId: this.workerId, reason: 'queued' })) ?? (await this.jobs.findById(id));
      if (!row || row.status !== 'pending') return;
    }
    if (row.expires_at && row.expires_at.getTime() <= Date.now()) {
      await this.jobs.transition(id, 'expired', { from: ['created', 'pending'], stopReason: 'expired', workerId: this.workerId, reason: 'expires_at passed before start' });
      return;
    }
    const started = await this.jobs.transition(id, 'running', { from: ['created', 'pending'], attempt: row.attempts, workerId: this.workerId });
    if (!started) return;
    await this.runAttempt(started, bullJob, token, log.child({ attempt: started.attempts }));
  }

  private async runAttempt(job: JobRow, bullJob: BullJob<JobQueueData>, token: string | undefined, log: Logger): Promise<void> {
    const attempt = job.attempts;
    const fence = { attempt, workerId: this.workerId };
    const task = this.tasks.get(job.task);
    if (!task) {
      await this.jobs.transition(job.id, 'failed', { ...fence, error: { message: `unknown task "${job.task}"`, code: 'unknown_task' }, stopReason: 'error' });
      return;
    }
    const parsed = task.input.safeParse(job.input);
    if (!parsed.success) {
      const detail = fieldErrorsFromIssues(parsed.error.issues, ['input']).map((e) => `${e.path}: ${e.message}`).join('; ');
      await this.jobs.transition(job.id, 'failed', { ...fence, error: { message: detail, code: 'invalid_input' }, stopReason: 'error' });
      return;
    }

    const controller = new AbortController();
    this.running.set(job.id, { attempt, controller });
    const timer = job.timeout_ms ? setTimeout(() => this.abort(job.id, 'timeout'), job.timeout_ms) : undefined;
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
    });
    aborted.catch(() => undefined);
    const startedAt = process.hrtime.bigint();

    // The handler's outcome is settled first and written after, so an outage while writing it is not
    // mistaken for the task failing. A handler that ignores its signal loses the race and is discarded.
    let outcome: { ok: true; output: TaskOutput } | { ok: false; err: unknown; cause: AbortCause | undefined };
    // True until a handler is actually running (one that throws at once leaves nothing behind).
    let handlerSettled = true;
    let handlerDone: Promise<void> = Promise.resolve();
    try {
      const run = task.run({
        jobId: job.id,
        organizationId: job.organization_id,
        attempt,
        input: parsed.data,
        signal: controller.signal,
        logger: log,
        clients: this.clients,
        reportProgress: async (percent, message) => {
          const p = { percent: Math.max(0, Math.min(100, percent)), message: message ?? null };
          // A report that finds the row no longer running for this attempt is a cancel (or takeover) we missed.
          if (!(await this.jobs.reportProgress(job.id, attempt, p))) return this.abortAttempt(job.id, attempt, 'superseded');
          // Live to event streams; best effort, the Job row already holds it.
          this.bus.publishProgress({ job_id: job.id, attempt, ...p, at: new Date().toISOString() }).catch((err: unknown) => log.warn('progress publish failed', { err: String(err) }));
        },
        recordTtft: (ns) => this.jobs.recordTtft(job.id, attempt, ns),
        recordResponseDuration: (ns) => this.jobs.recordResponseDuration(job.id, attempt, ns),
      });
      handlerSettled = false;
      handlerDone = run.then(
        () => void (handlerSettled = true),
        () => void (handlerSettled = true),
      );
      const output = await Promise.race([run, aborted]);
      outcome = { ok: true, output };
    } catch (err) {
      const cause = err instanceof AttemptAborted ? err.why : controller.signal.aborted ? (controller.signal.reason as AttemptAborted).why : undefined;
      outcome = { ok: false, err, cause };
    } finally {
      if (timer) clearTimeout(timer);
      if (this.running.get(job.id)?.controller === controller) this.running.delete(job.id);
    }

    if (outcome.ok) {
      const { output } = outcome;
      if (output.handOff) {
        // The row stays `running` for its owner (e.g. the batch poller); this BullMQ job may now complete.
        const owner = output.handOff.owner;
        const held = await this.persist(log, () => this.jobs.handOff(job.id, attempt, owner));
        log.info(held ? 'attempt handed off' : 'hand-off discarded: the job moved on without this attempt', { owner });
        return;
      }
      const done = await this.persist(log, () =>
        this.jobs.transition(job.id, 'completed', {
          ...fence,
          from: ['running'],
          result: output.result ?? null,
          stopReason: output.stopReason ?? 'end_turn',
          ...(output.run ? { run: output.run } : {}),
        }),
      );
      if (done) jobDuration.observe({ task: job.task, status: 'completed' }, seconds(startedAt));
      else log.info('late result discarded: the job moved on without this attempt');
      return;
    }
    jobDuration.observe({ task: job.task, status: outcome.cause ?? 'failed' }, seconds(startedAt));
    if (outcome.cause) log.info('attempt aborted', { cause: outcome.cause });
    const cause = outcome.cause;
    try {
      await this.settleFailure(job, bullJob, token, outcome.err, cause, log);
    } finally {
      // The attempt is over (its outcome written at the deadline), but a handler deaf to its signal still runs:
      // it counts against WORKER_CONCURRENCY until it returns. A shutdown hands the job back instead; the
      // process is going away.
      if (cause && cause !== 'shutdown') await this.noteIfAbandoned(job, cause, handlerDone, () => handlerSettled, log);
    }
  }

  /**
   * Gives an aborted handler ABANDON_GRACE_MS to unwind, in its BullMQ slot. One still running after that is
   * abandoned: this processor returns (its entry completes, so the job can be retried at once, here or on
   * another worker), and the worker's capacity stays lowered by one until the handler returns.
   */
  private async noteIfAbandoned(job: JobRow, cause: AbortCause, handlerDone: Promise<void>, settled: () => boolean, log: Logger): Promise<void> {
    if (settled()) return;
    let graceTimer: NodeJS.Timeout | undefined;
    await Promise.race([handlerDone, new Promise<void>((r) => (graceTimer = setTimeout(r, ABANDON_GRACE_MS)))]);
    clearTimeout(graceTimer);
    if (settled()) return;
    abandonedHandlersTotal.inc({ task: job.task, cause });
    if (this.graceOver) {
      // Shutdown's grace has run out (close released the others already): the process is about to exit.
      log.warn('handler ignored its abort signal; not waited for, the worker is shutting down', { task: job.task, cause });
      return;
    }
    abandonedHandlers.inc();
    log.warn('handler ignored its abort signal; it counts against the concurrency until it returns', { task: job.task, cause });
    const since = Date.now();
    const key = Symbol(job.id);
    let released = false;
    const release = (returned: boolean) => {
      if (released) return;
      released = true;
      this.abandoned.delete(key);
      abandonedHandlers.dec();
      if (returned) log.info('abandoned handler returned; slot freed', { task: job.task, held_ms: Date.now() - since });
      else log.warn('abandoned handler still running at shutdown; slot released', { task: job.task, held_ms: Date.now() - since });
      this.fitCapacity();
    };
    this.abandoned.set(key, { done: handlerDone, release: () => release(false) });
    void handlerDone.then(() => release(true));
    // Before this processor returns: BullMQ fetches a next job as it completes this one only when its count of
    // jobs in process is within the (now lowered) concurrency, so the slot the handler keeps is not refilled.
    this.fitCapacity();
  }

  /**
   * BullMQ may run WORKER_CONCURRENCY minus the abandoned handlers; when they fill every slot the worker is
   * paused locally (its concurrency cannot go below 1) and resumed as soon as one returns.
   */
  private fitCapacity(): void {
    const w = this.worker;
    if (!w || this.closing) return;
    const free = this.opts.concurrency - this.abandoned.size;
    w.concurrency = Math.max(1, free);
    if (free < 1) {
      // pause(true) sets the flag synchronously; it does not wait for the jobs in process (this one among them).
      if (!w.isPaused()) w.pause(true).catch((err: unknown) => this.logger.error('job worker pause failed', { err: String(err) }));
    } else if (w.isPaused()) {
      void w.resume(); // reports its own errors on the worker's 'error' event
    }
  }

  /**
   * Retries a status write while Postgres is unreachable, for up to OUTCOME_WRITE_PATIENCE_MS: the attempt's
   * result is only in memory, and BullMQ keeps the job locked to us meanwhile. Past that the error goes to
   * BullMQ and the reconciler recovers the still-running row, so the job runs again (at least once).
   */
  private async persist<T>(log: Logger, write: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + OUTCOME_WRITE_PATIENCE_MS;
    for (let i = 1; ; i++) {
      try {
        return await write();
      } catch (err) {
        if (isDependencyDown(err) !== 'postgres' || Date.now() > deadline) throw err;
        const delay = Math.min(POSTGRES_BACKOFF_MAX_MS, 250 * 2 ** Math.min(i, 6));
        log.warn('postgres unavailable while writing an outcome; retrying', { retry_in_ms: delay, err: String(err) });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async settleFailure(job: JobRow, bullJob: BullJob<JobQueueData>, token: string | undefined, err: unknown, cause: AbortCause | undefined, log: Logger): Promise<void> {
    const fence = { attempt: job.attempts, workerId: this.workerId, from: ['running'] as const };
    // The canceller already wrote `cancelled`; a superseded attempt's row belongs to someone else.
    if (cause === 'cancelled' || cause === 'superseded') return;
    if (cause === 'timeout') {
      await this.persist(log, () =>
        this.jobs.transition(job.id, 'expired', { ...fence, stopReason: 'timeout', error: { message: `attempt exceeded timeout_ms (${job.timeout_ms} ms)`, code: 'timeout' }, reason: 'timeout' }),
      );
      return;
    }
    if (cause === 'shutdown') {
      const back = await this.jobs.transition(job.id, 'pending', { ...fence, reason: 'worker shutting down' });
      if (back && token) {
        await this.undispatch(bullJob);
        await bullJob.moveToWait(token);
        throw new WaitingError();
      }
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    const code = (err as { code?: unknown }).code;
    const error = { message, code: typeof code === 'string' ? code : isPermanent(err) ? 'permanent_error' : 'task_error' };
    if (!isPermanent(err) && job.attempts < job.max_attempts) {
      // A provider's retry-after is the least wait; the job's own backoff applies when it asks for more.
      const delay = Math.max(fullJitterBackoff(job.backoff_ms, job.attempts), err instanceof TaskError ? (err.retryAfterMs ?? 0) : 0);
      const runAt = new Date(Date.now() + delay);
      const back = await this.persist(log, () => this.jobs.transition(job.id, 'pending', { ...fence, error, runAt, reason: `retry in ${delay} ms: ${message}` }));
      if (back && token) {
        log.info('attempt failed; retrying', { delay_ms: delay, error: message });
        await this.undispatch(bullJob);
        await bullJob.moveToDelayed(runAt.getTime(), token);
        throw new DelayedError();
      }
      return;
    }
    const stopReason = err instanceof TaskError ? err.stopReason : 'error';
    await this.persist(log, () => this.jobs.transition(job.id, 'failed', { ...fence, error, stopReason, reason: message }));
    log.info('job failed', { error: message });
  }
}

function seconds(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e9;
}
