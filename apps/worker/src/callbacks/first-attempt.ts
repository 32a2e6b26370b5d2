import { isTerminal } from '@jobs/core';
import type { JobStore } from '@jobs/db';
import type { Logger } from '@jobs/observability';
import type { CallbackJobData, CallbackQueue } from '@jobs/queue';
import { callbackSnapshot } from '@jobs/service';
import type { CallbackAttempt } from './callback-attempt';

export interface FirstAttemptOptions {
  /** First attempts in flight at once (CALLBACK_CONCURRENCY); beyond it a series goes to the queue as before. */
  concurrency: number;
  /** How long the held entry waits before another worker makes the attempt (LOCK_DURATION_MS, as a lost lock). */
  holdMs: number;
  maxAttempts: number;
}

export interface FirstAttempts {
  /** Waits for the first attempts in flight (shutdown); their held entries cover any that are cut short. */
  drain(): Promise<void>;
}

/**
 * The worker that writes a terminal transition makes its series' first attempt itself, right after the write,
 * instead of waking the callbacks queue's consumer for it. The series is queued first, as a delayed entry that
 * becomes the next attempt should this worker die or hang mid-attempt, so a series is never held only in
 * memory: if that add fails nothing is sent and the sweep queues the series after its grace, as before.
 * After the attempt the entry is removed (the series ended) or rescheduled to the usual backoff (a retry);
 * should that fail, the entry runs when its hold ends and the queue's consumer decides from there. The job's
 * slot is not held: the runner has already moved on when the listener fires.
 */
export function attemptFirstCallbacks(
  jobs: JobStore,
  queue: CallbackQueue,
  attempter: CallbackAttempt,
  opts: FirstAttemptOptions,
  logger: Logger,
): FirstAttempts {
  const inFlight = new Set<Promise<void>>();
  const enqueueFailed = (jobId: string, err: unknown): void => {
    logger.warn('callback enqueue failed; the sweep will queue it', { job_id: jobId, err: String(err) });
  };

  const firstAttempt = async (data: CallbackJobData): Promise<void> => {
    // The secrets read overlaps the add; nothing is sent unless the add succeeded.
    const context = attempter.context(data);
    context.catch(() => undefined);
    let held;
    try {
      held = await queue.hold(data, opts.holdMs);
    } catch (err) {
      return enqueueFailed(data.job_id, err);
    }
    const renew = setInterval(() => void held.renew(opts.holdMs).catch(() => undefined), Math.max(100, opts.holdMs / 2));
    let result;
    try {
      result = await attempter.run(data, 1, opts.maxAttempts, context);
    } finally {
      clearInterval(renew);
    }
    if (result.outcome === 'retry') await held.retryIn(result.delayMs);
    // An unrecorded outcome is left to the held entry: the queue's consumer makes the attempt again (same webhook-id).
    else if (result.recorded) await held.release();
  };

  jobs.onTransition(({ job }) => {
    if (!isTerminal(job.status) || !job.callback_pending) return;
    const data = callbackSnapshot(job);
    if (!data) return;
    if (inFlight.size >= opts.concurrency) {
      queue.enqueue(data).catch((err: unknown) => enqueueFailed(data.job_id, err));
      return;
    }
    const p = firstAttempt(data)
      .catch((err: unknown) => {
        logger.warn('first callback attempt did not finish; its queued entry will make it', { job_id: data.job_id, err: String(err) });
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  });

  return {
    async drain() {
      await Promise.allSettled([...inFlight]);
    },
  };
}
