import { Queue, Worker, type Job as BullJob } from 'bullmq';
import { type RedisClient as Redis, SCHEDULER_QUEUE, schedulerLastErrorKey, schedulerLastRunKey, schedulerLastSuccessKey, schedulerRunsKey, type LeaderLock, type LostReason, WORKER_RUN_RETRY_DELAY_MS } from '@jobs/queue';
import { leaderGauge, schedulerRuns, type Logger } from '@jobs/observability';

/** A scheduled handler; `signal` fires when leadership is lost or the process stops. */
export type ScheduledHandler = (signal: AbortSignal) => Promise<unknown>;

export interface ScheduleEntry {
  name: string;
  everyMs: number;
  handler: ScheduledHandler;
}

export interface SchedulerOptions {
  /** BullMQ connection (maxRetriesPerRequest: null). */
  connection: Redis;
  /** For the run records. */
  redis: Redis;
  prefix: string;
  lock: LeaderLock;
  entries: ScheduleEntry[];
  logger: Logger;
  /**
   * How long a leader that could not set up its schedulers stays away from the lock after giving it up
   * (default 30 s, the default lock ttl), so that another process, or this one after the fault, can lead.
   */
  abdicatePauseMs?: number;
}

/** One record per finished run, kept in a capped Redis list for operators (and the tests). */
export interface SchedulerRun {
  name: string;
  instance_id: string;
  started_at: number;
  finished_at: number;
  outcome: 'ok' | 'error';
}

const KEPT_RUNS = 500;

/**
 * Runs in every worker process (SPEC F7). The holder of the leader lock registers the BullMQ job schedulers
 * (`upsertJobScheduler`, idempotent, so each new leader simply re-asserts them) and is the only process with a
 * Worker on the `scheduler` queue. Losing the lock closes that Worker and aborts running handlers at once;
 * each handler also confirms leadership against Redis before it acts, and one name never runs twice at once.
 * A leader serves its schedulers or leads nothing: when registering them fails (Redis out of memory under
 * noeviction, READONLY during a failover) it gives the lock up and tries again later, instead of holding
 * a lock under which nothing runs.
 */
export class Scheduler {
  private readonly queue: Queue;
  private worker?: Worker;
  private readonly running = new Map<string, AbortController>();
  /** Leadership changes apply one at a time, in order. */
  private changes: Promise<void> = Promise.resolve();

  constructor(private readonly opts: SchedulerOptions) {
    this.queue = new Queue(SCHEDULER_QUEUE, { connection: opts.connection, prefix: opts.prefix, skipVersionCheck: true });
    this.queue.on('error', (err) => opts.logger.warn('scheduler queue error', { err: err.message }));
  }

  get instanceId(): string {
    return this.opts.lock.token;
  }

  isLeader(): boolean {
    return this.opts.lock.isLeader();
  }

  start(): void {
    const { lock, logger } = this.opts;
    lock.on('acquired', () => this.enqueueChange(() => this.lead()));
    lock.on('lost', (reason: LostReason) => this.enqueueChange(() => this.follow(reason)));
    lock.on('error', (err) => logger.warn('leader lock error', { err: err.message }));
    lock.start();
  }

  async stop(): Promise<void> {
    await this.opts.lock.stop();
    await this.changes;
    await this.follow('released');
    await this.queue.close();
  }

  private enqueueChange(fn: () => Promise<void>): void {
    this.changes = this.changes.then(fn).catch((err: unknown) => {
      this.opts.logger.error('scheduler leadership change failed', { err: String(err) });
    });
  }

  private async lead(): Promise<void> {
    const { lock, logger } = this.opts;
    if (!lock.isLeader()) return;
    logger.info('leadership acquired', { instance_id: lock.token, at: Date.now() });
    try {
      await this.register();
      if (!lock.isLeader()) return;
      this.serve();
      // Only now does this process lead anything.
      leaderGauge.set(1);
    } catch (err) {
      const pauseMs = this.opts.abdicatePauseMs ?? 30_000;
      logger.error('scheduler setup failed; giving up leadership', { instance_id: lock.token, err: String(err), retry_in_ms: pauseMs });
      leaderGauge.set(0);
      await lock.abdicate(pauseMs);
    }
  }

  /** Asserts the job schedulers of this configuration in Redis (idempotent) and removes any it no longer has. */
  private async register(): Promise<void> {
    const { entries } = this.opts;
    for (const e of entries) {
      await this.queue.upsertJobScheduler(e.name, { every: e.everyMs }, { name: e.name, opts: { removeOnComplete: 100, removeOnFail: 100 } });
    }
    // A scheduler this configuration no longer has (e.g. polling switched off) must stop firing.
    const wanted = new Set(entries.map((e) => e.name));
    for (const s of await this.queue.getJobSchedulers()) {
      if (s.key && !wanted.has(s.key)) await this.queue.removeJobScheduler(s.key);
    }
  }

  private serve(): void {
    const { logger, entries } = this.opts;
    if (this.worker) return;
    this.worker = new Worker(SCHEDULER_QUEUE, (job) => this.run(job), {
      connection: this.opts.connection,
      prefix: this.opts.prefix,
      concurrency: Math.max(1, entries.length),
      skipVersionCheck: true,
      runRetryDelay: WORKER_RUN_RETRY_DELAY_MS,
    });
    this.worker.on('error', (err) => logger.warn('scheduler worker error', { err: err.message }));
  }

  private async follow(reason: LostReason): Promise<void> {
    const wasLeading = Boolean(this.worker) || this.running.size > 0;
    leaderGauge.set(0);
    for (const c of this.running.values()) c.abort(new Error(`leadership lost: ${reason}`));
    const worker = this.worker;
    this.worker = undefined;
    // Force: do not wait for handlers; they were aborted above and check leadership before every write.
    if (worker) await worker.close(true);
    if (wasLeading) this.opts.logger.info('leadership lost', { instance_id: this.opts.lock.token, reason, at: Date.now() });
  }

  private async run(job: BullJob): Promise<unknown> {
    const entry = this.opts.entries.find((e) => e.name === job.name);
    if (!entry) return { skipped: 'unknown scheduled job' };
    if (this.running.has(entry.name)) {
      schedulerRuns.inc({ name: entry.name, outcome: 'skipped' });
      return { skipped: 'previous run still in progress' };
    }
    if (!(await this.opts.lock.confirm().catch(() => false))) {
      schedulerRuns.inc({ name: entry.name, outcome: 'skipped' });
      return { skipped: 'not the leader' };
    }
    const controller = new AbortController();
    this.running.set(entry.name, controller);
    const startedAt = Date.now();
    let outcome: SchedulerRun['outcome'] = 'ok';
    try {
      const summary = await entry.handler(controller.signal);
      await this.opts.redis.hset(schedulerLastSuccessKey(this.opts.prefix), entry.name, String(Date.now())).catch(() => undefined);
      if (summary !== undefined) await this.opts.redis.set(schedulerLastRunKey(this.opts.prefix, entry.name), JSON.stringify(summary)).catch(() => undefined);
      return summary;
    } catch (err) {
      outcome = 'error';
      this.opts.logger.error('scheduled run failed', { name: entry.name, err: String(err) });
      await this.opts.redis.hset(schedulerLastErrorKey(this.opts.prefix), entry.name, String(Date.now())).catch(() => undefined);
      return { error: String(err) };
    } finally {
      this.running.delete(entry.name);
      schedulerRuns.inc({ name: entry.name, outcome });
      await this.record({ name: entry.name, instance_id: this.opts.lock.token, started_at: startedAt, finished_at: Date.now(), outcome });
    }
  }

  private async record(run: SchedulerRun): Promise<void> {
    const key = schedulerRunsKey(this.opts.prefix);
    await this.opts.redis
      .multi()
      .lpush(key, JSON.stringify(run))
      .ltrim(key, 0, KEPT_RUNS - 1)
      .exec()
      .catch(() => undefined);
  }
}
