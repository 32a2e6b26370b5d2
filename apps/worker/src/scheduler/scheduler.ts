import { Queue, Worker, type Job as BullJob } from 'bullmq';
import type { Redis } from 'ioredis';
import { leaderGauge, schedulerRuns, type Logger } from '@jobs/observability';
import { SCHEDULER_QUEUE, schedulerLastRunKey, schedulerRunsKey, type LeaderLock, type LostReason } from '@jobs/queue';

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
    const { lock, logger, entries } = this.opts;
    if (!lock.isLeader()) return;
    leaderGauge.set(1);
    logger.info('leadership acquired', { instance_id: lock.token, at: Date.now() });
    for (const e of entries) {
      await this.queue.upsertJobScheduler(e.name, { every: e.everyMs }, { name: e.name, opts: { removeOnComplete: 100, removeOnFail: 100 } });
    }
    // A scheduler this configuration no longer has (e.g. polling switched off) must stop firing.
    const wanted = new Set(entries.map((e) => e.name));
    for (const s of await this.queue.getJobSchedulers()) {
      if (s.key && !wanted.has(s.key)) await this.queue.removeJobScheduler(s.key);
    }
    if (!lock.isLeader() || this.worker) return;
    this.worker = new Worker(SCHEDULER_QUEUE, (job) => this.run(job), {
      connection: this.opts.connection,
      prefix: this.opts.prefix,
      concurrency: Math.max(1, entries.length),
      skipVersionCheck: true,
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
      if (summary !== undefined) await this.opts.redis.set(schedulerLastRunKey(this.opts.prefix, entry.name), JSON.stringify(summary)).catch(() => undefined);
      return summary;
    } catch (err) {
      outcome = 'error';
      this.opts.logger.error('scheduled run failed', { name: entry.name, err: String(err) });
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
