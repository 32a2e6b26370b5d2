import { UnrecoverableError, Worker, type Job as BullJob } from 'bullmq';
import { type RedisClient as Redis, CALLBACKS_QUEUE, type CallbackJobData, WORKER_RUN_RETRY_DELAY_MS } from '@jobs/queue';
import type { CallbackAttemptRecord, CallbackStore } from '@jobs/db';
import { callbackDeliveries, type Logger } from '@jobs/observability';
import type { HostGuard } from '@jobs/outbound';
import { callbackBody, webhookHeaders } from './callback-request';
import { EndpointHealth } from './endpoint-health';
import { postCallback } from './post-callback';
import { callbackRetryDelay, classifyAttempt, nextDelay, type AttemptOutcome } from './retry-policy';

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
  private readonly health: EndpointHealth;

  constructor(
    private readonly deps: CallbackWorkerDeps,
    private readonly opts: CallbackWorkerOptions,
  ) {
    this.health = deps.health ?? new EndpointHealth();
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
    this.worker.on('error', (err) => this.deps.logger.error('callback worker error', { err: err.message }));
  }

  async close(): Promise<void> {
    await this.worker?.close();
  }

  private async attempt(job: BullJob<CallbackJobData>): Promise<AttemptOutcome | 'stale'> {
    const d = job.data;
    const attempt = job.attemptsMade + 1;
    const log = this.deps.logger.child({ job_id: d.job_id, webhook_id: d.webhook_id, callback_attempt: attempt });
    const record = (attempt: CallbackAttemptRecord) =>
      this.deps.store.recordAttempt(d.job_id, d.webhook_id, attempt).catch((err: unknown) => {
        // The series row then stays `queued`; the sweep settles it from the queue's outcome once overdue.
        log.warn('could not record callback attempt', { err: String(err) });
        return false;
      });
    // A series is delivered even when its job was retried or deleted since: its terminal transition happened.
    const { secrets } = await this.deps.store.deliveryContext(d.job_id, d.organization_id);
    if (secrets.length === 0) {
      log.warn('organization gone; callback dropped');
      await record({ statusCode: null, error: 'organization gone; not sent', state: 'failed', nextAttemptAt: null });
      return 'stale';
    }

    const at = new Date();
    const body = JSON.stringify(callbackBody(d, this.opts.publicUrl, at));
    const result = await postCallback(
      { url: d.callback_url, body, headers: webhookHeaders(secrets, d.webhook_id, at, body) },
      { timeoutMs: this.opts.timeoutMs, maxResponseBytes: this.opts.maxResponseBytes, guard: this.deps.guard },
    );
    const outcome = classifyAttempt(result, attempt, job.opts.attempts ?? 1);
    this.health.record(d.callback_url, outcome === 'delivered');
    const delay = outcome === 'retry' ? nextDelay(result.statusCode, result.retryAfterMs, this.opts.backoffMs, attempt) : 0;
    // On the series row always; on the job row only while the job still belongs to this series.
    await record({
      statusCode: result.statusCode,
      error: result.error,
      state: outcome === 'delivered' ? 'delivered' : outcome === 'retry' ? 'queued' : 'failed',
      nextAttemptAt: outcome === 'retry' ? new Date(Date.now() + delay) : null,
      startedAt: at,
      durationMs: result.durationMs,
      responseExcerpt: result.responseExcerpt,
    });

    callbackDeliveries.inc({ outcome });
    switch (outcome) {
      case 'delivered':
        log.debug('callback delivered', { status_code: result.statusCode });
        return outcome;
      case 'retry': {
        log.info('callback attempt failed; retrying', { status_code: result.statusCode, error: result.error, delay_ms: delay });
        throw new RetryLater(delay, result.error ?? 'failed');
      }
      default:
        log.warn(`callback series ended: ${outcome}`, { status_code: result.statusCode, error: result.error });
        throw new UnrecoverableError(`${outcome}: ${result.error ?? ''}`);
    }
  }
}
