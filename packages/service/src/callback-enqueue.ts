import { isTerminal } from '@jobs/core';
import type { CallbackStore, JobStore, JobRow } from '@jobs/db';
import type { CallbackQueue } from '@jobs/queue';
import { callbackSnapshot, deliverySnapshot } from './callback-snapshot';

/**
 * Queues a row's pending series; false when the row has nothing to send. The series row stays `pending` until
 * its first attempt is recorded (which ends `pending` and the job's `callback_pending`), saving a write per
 * callback: should the attempt be later than the sweep's grace, the sweep's add under the same webhook-id is a
 * no-op and it marks the series queued itself.
 */
export async function enqueueCallback(row: JobRow, queue: CallbackQueue): Promise<boolean> {
  const data = callbackSnapshot(row);
  if (!data) return false;
  await queue.enqueue(data);
  return true;
}

/**
 * Every terminal transition written by this process queues its callback series at once. Runs in the API
 * (cancel, delete); a worker makes its series' first attempt itself (apps/worker/src/callbacks/first-attempt.ts).
 * A failure here only delays the callback: the series row (written with the transition) stays `pending` and
 * the sweep queues it.
 */
export function enqueueCallbacksOnTransition(jobs: JobStore, queue: CallbackQueue, onError: (err: unknown, jobId: string) => void): void {
  jobs.onTransition(({ job }) => {
    if (!isTerminal(job.status) || !job.callback_pending) return;
    enqueueCallback(job, queue).catch((err: unknown) => onError(err, job.id));
  });
}

/** How long a series may stay `pending` before the sweep assumes its writer's enqueue failed. */
export const CALLBACK_SWEEP_GRACE_MS = 5000;

/**
 * How late a queued series' next attempt may be before the sweep asks Redis whether its entry still
 * exists (Redis lost its data, or an outcome was not recorded). Generous: a busy queue is late too.
 */
export const CALLBACK_OVERDUE_MS = 60_000;

export interface CallbackSweepOptions {
  graceMs?: number;
  overdueMs?: number;
  limit?: number;
}

/** Queue states in which a series will still (or is about to) be attempted. */
const LIVE_STATES = new Set(['waiting', 'wait', 'delayed', 'prioritized', 'active', 'waiting-children', 'paused']);

/**
 * The reconciler step for callbacks, over the series rows: a series still `pending` after the grace
 * period (its writer died, Redis was down, the job was deleted or retried since) is queued under its
 * webhook-id; a queued series long overdue whose queue entry is gone is queued again, and one whose entry
 * finished without its outcome being recorded is settled. Returns how many series it queued.
 */
export async function enqueueMissingCallbacks(queue: CallbackQueue, store: CallbackStore, opts: CallbackSweepOptions = {}): Promise<number> {
  const limit = opts.limit ?? 500;
  // A series is `pending` until its first attempt is recorded, so a backlog of callbacks shows up here: a page
  // costs one add (under a webhook-id BullMQ still holds, a no-op) and one marking statement, not one per series.
  const unqueued = await store.findUnqueued(opts.graceMs ?? CALLBACK_SWEEP_GRACE_MS, limit);
  await queue.enqueueMany(unqueued.map(deliverySnapshot));
  await Promise.all(unqueued.map((row) => store.markEnqueued(row.job_id, row.webhook_id)));
  let queued = unqueued.length;
  const overdue = await store.findOverdue(opts.overdueMs ?? CALLBACK_OVERDUE_MS, limit);
  const verdicts: Record<'queued' | 'delivered' | 'failed', string[]> = { queued: [], delivered: [], failed: [] };
  // One round trip for all of them (up to `limit`), not one per series.
  const states = await queue.states(overdue.map((row) => row.webhook_id));
  for (const [i, row] of overdue.entries()) {
    const state = states[i] ?? 'unknown';
    if (state === 'completed') verdicts.delivered.push(row.webhook_id);
    else if (state === 'failed') verdicts.failed.push(row.webhook_id);
    else {
      if (!LIVE_STATES.has(state)) {
        await queue.enqueue(deliverySnapshot(row));
        queued++;
      }
      verdicts.queued.push(row.webhook_id);
    }
  }
  for (const [state, ids] of Object.entries(verdicts) as [keyof typeof verdicts, string[]][]) await store.settle(ids, state);
  return queued;
}
