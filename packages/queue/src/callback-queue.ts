import { Queue, type JobsOptions } from 'bullmq';
import { type RedisClient as Redis, READY_WAIT_MS, waitReady } from './redis';
import { jobStates } from './job-states';
import { CALLBACKS_QUEUE } from './names';

/**
 * One delivery series as queued: a snapshot of what the callback reports, taken at the terminal
 * transition. A job deleted right after its cancel still gets its callback from this snapshot.
 */
export interface CallbackJobData {
  job_id: string;
  organization_id: string;
  /** The Standard Webhooks message id; the BullMQ job id too, so a series is queued at most once. */
  webhook_id: string;
  callback_url: string;
  status: string;
  stop_reason: string | null;
  completed_at: string | null;
  metadata: Record<string, unknown>;
  /** Attempts made outside the queue before this entry's first (the finishing worker's own first attempt). */
  attempts_before?: number;
}

/**
 * A series held in the queue while its first attempt is made outside it: a delayed entry that becomes an
 * ordinary attempt if its holder dies or goes silent (`renew` pushes it back while the attempt runs).
 */
export interface HeldSeries {
  renew(ms: number): Promise<void>;
  /** The first attempt failed and another follows: the entry runs in `ms` as the series' next attempt. */
  retryIn(ms: number): Promise<void>;
  /** The series ended with the first attempt (delivered, or no retry): the entry is removed. */
  release(): Promise<void>;
}

/** The name the callback worker's backoff strategy answers to (it honours Retry-After). */
export const CALLBACK_BACKOFF_TYPE = 'callback';

export type RedeliveryOutcome = 'queued' | 'promoted' | 'in_progress';

/** Finished series stay a while for the dashboard and to absorb a late duplicate enqueue. */
const CALLBACK_RETENTION: Pick<JobsOptions, 'removeOnComplete' | 'removeOnFail'> = {
  removeOnComplete: { age: 3600 },
  removeOnFail: { age: 24 * 3600 },
};

/** Producer side of the `callbacks` queue (F6). */
export class CallbackQueue {
  readonly queue: Queue<CallbackJobData>;

  constructor(
    private readonly connection: Redis,
    prefix: string,
    private readonly maxAttempts: number,
  ) {
    this.queue = new Queue<CallbackJobData>(CALLBACKS_QUEUE, { connection, prefix, skipVersionCheck: true });
  }

  /** Queues a series; adding the same webhook-id again while BullMQ still holds it is a no-op. */
  async enqueue(data: CallbackJobData): Promise<void> {
    // BullMQ would wait for a lost connection indefinitely; failing fast leaves the row to the sweep.
    await waitReady(this.connection, READY_WAIT_MS);
    await this.queue.add(`job.${data.status}`, data, this.addOptions(data));
  }

  /** Queues many series in one round trip (BullMQ's addBulk); ids BullMQ still holds are left as they are. */
  async enqueueMany(series: readonly CallbackJobData[]): Promise<void> {
    if (series.length === 0) return;
    await waitReady(this.connection, READY_WAIT_MS);
    await this.queue.addBulk(series.map((data) => ({ name: `job.${data.status}`, data, opts: this.addOptions(data) })));
  }

  /**
   * Queues a series as a delayed entry that runs in `holdMs` (as attempt 2 onwards, with the rest of the attempt
   * budget) unless its holder, who makes attempt 1 now, moves it. A failed add means the holder must not send:
   * the series is then left to the sweep, exactly as a failed `enqueue` leaves it.
   */
  async hold(data: CallbackJobData, holdMs: number): Promise<HeldSeries> {
    await waitReady(this.connection, READY_WAIT_MS);
    const opts = { ...this.addOptions(data), attempts: Math.max(1, this.maxAttempts - 1), delay: holdMs };
    const job = await this.queue.add(`job.${data.status}`, { ...data, attempts_before: 1 }, opts);
    return {
      renew: (ms) => job.changeDelay(ms),
      retryIn: (ms) => job.changeDelay(ms),
      release: () => job.remove(),
    };
  }

  private addOptions(data: CallbackJobData): JobsOptions {
    return { jobId: data.webhook_id, attempts: this.maxAttempts, backoff: { type: CALLBACK_BACKOFF_TYPE }, ...CALLBACK_RETENTION };
  }

  /**
   * Manual replay of a series (same webhook-id, so receivers deduplicate): a finished series is queued
   * afresh with a full attempt budget, a series waiting out a backoff is sent now, a running one is left.
   */
  async redeliver(data: CallbackJobData): Promise<RedeliveryOutcome> {
    await waitReady(this.connection, READY_WAIT_MS);
    const existing = await this.queue.getJob(data.webhook_id);
    if (existing) {
      const state = await existing.getState();
      if (state === 'delayed') {
        await existing.promote();
        return 'promoted';
      }
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return 'in_progress';
      await existing.remove();
    }
    await this.enqueue(data);
    return 'queued';
  }

  /** The BullMQ states of series ('unknown' where the queue holds no entry), in order, in one round trip. */
  async states(webhookIds: string[]): Promise<string[]> {
    await waitReady(this.connection, READY_WAIT_MS);
    return (await jobStates(this.queue, this.connection, webhookIds)).map((s) => (s === 'missing' ? 'unknown' : s));
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
