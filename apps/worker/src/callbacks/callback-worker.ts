import { UnrecoverableError, Worker, type Job as BullJob } from 'bullmq';
import { type RedisClient as Redis, CALLBACKS_QUEUE, type CallbackJobData, WORKER_RUN_RETRY_DELAY_MS } from '@jobs/queue';
import type { CallbackStore } from '@jobs/db';
import type { Logger } from '@jobs/observability';
import type { HostGuard } from '@jobs/outbound';
import { CallbackAttempt } from './callback-attempt';
import { EndpointHealth } from './endpoint-health';
import { callbackRetryDelay, type AttemptOutcome } from './retry-policy';

export interface CallbackWorkerOptions {
  connection: Redis;
  prefix: string;
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  timeoutMs: number;
  maxResponseBytes: number;
  backoffMs: number;
  /** Base of `result_url` (PUBLIC_URL). */
  publicUrl: string;
}

export interface CallbackWorkerDeps {
  store: CallbackStore;
  guard: HostGuard;
  logger: Logger;
  /** Consecutive failures per host (a gauge); one per process when not given. */
  health?: EndpointHealth;
}

/** A failed attempt that should be tried again after `delayMs` (read by the queue's backoff strategy). */
class RetryLater extends Error {
  constructor(
    readonly delayMs: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The consumer of the `callbacks` queue: one BullMQ job is one delivery series (one webhook-id); each
 * BullMQ attempt is one POST. BullMQ's attempts and backoff carry the retry schedule, so a series
 * survives worker restarts, and a worker killed mid-POST leaves the attempt to be made again by another
 * (same webhook-id: receivers deduplicate on it).
 */
export class CallbackWorker {
  private worker?: Worker<CallbackJobData, AttemptOutcome | 'stale'>;
  /** One attempt of a series, as the finishing worker's first attempt makes it too. */
  readonly attempter: CallbackAttempt;
  private readonly logger: Logger;

  constructor(
    deps: CallbackWorkerDeps,
    private readonly opts: CallbackWorkerOptions,
  ) {
    this.attempter = new CallbackAttempt({ ...deps, health: deps.health ?? new EndpointHealth() }, opts);
    this.logger = deps.logger;
  }

  start(): void {
    const backoffMs = this.opts.backoffMs;
    this.worker = new Worker<CallbackJobData, AttemptOutcome | 'stale'>(CALLBACKS_QUEUE, (job) => this.attempt(job), {
      connection: this.opts.connection,
      prefix: this.opts.prefix,
      concurrency: this.opts.concurrency,
      lockDuration: this.opts.lockDurationMs,
      stalledInterval: this.opts.stalledIntervalMs,
      // A stall is a killed worker, not a bad callback; the attempt is simply made again.
      maxStalledCount: 10,
      skipVersionCheck: true,
      runRetryDelay: WORKER_RUN_RETRY_DELAY_MS,
      settings: {
        backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) =>
          err instanceof RetryLater ? err.delayMs : callbackRetryDelay(backoffMs, attemptsMade),
      },
    });
    this.worker.on('error', (err) => this.logger.error('callback worker error', { err: err.message }));
  }

  async close(): Promise<void> {
    await this.worker?.close();
  }

  private async attempt(job: BullJob<CallbackJobData>): Promise<AttemptOutcome | 'stale'> {
    // A series whose first attempt the finishing worker made counts that attempt in its number and budget.
    const before = job.data.attempts_before ?? 0;
    const r = await this.attempter.run(job.data, job.attemptsMade + 1 + before, (job.opts.attempts ?? 1) + before);
    switch (r.outcome) {
      case 'delivered':
      case 'stale':
        return r.outcome;
      case 'retry':
        throw new RetryLater(r.delayMs, r.error ?? 'failed');
      default:
        throw new UnrecoverableError(`${r.outcome}: ${r.error ?? ''}`);
    }
  }
}
