import { isTerminal } from '@jobs/core';
import type { CallbackStore, JobManager, JobRow } from '@jobs/db';
import { callbackSnapshot, type CallbackQueue } from './callback-queue';

/** Queues a row's pending series and clears `callback_pending`; false when the row has nothing to send. */
export async function enqueueCallback(row: JobRow, queue: CallbackQueue, store: CallbackStore): Promise<boolean> {
  const data = callbackSnapshot(row);
  if (!data) return false;
  await queue.enqueue(data);
  await store.markEnqueued(row.id, data.webhook_id);
  return true;
}

/**
 * Every terminal transition written by this process queues its callback series at once. Runs in the
 * worker (completed/failed/expired) and in the API (cancel, delete). A failure here only delays the
 * callback: the row keeps `callback_pending` and the sweep queues it.
 */
export function enqueueCallbacksOnTransition(jobs: JobManager, queue: CallbackQueue, store: CallbackStore, onError: (err: unknown, jobId: string) => void): void {
  jobs.onTransition(({ job }) => {
    if (!isTerminal(job.status) || !job.callback_pending) return;
    enqueueCallback(job, queue, store).catch((err: unknown) => onError(err, job.id));
  });
}

/** How long a terminal row may stay `callback_pending` before the sweep assumes its writer died. */
export const CALLBACK_SWEEP_GRACE_MS = 5000;

/**
 * The reconciler step for callbacks: terminal rows still `callback_pending` after the grace period are
 * queued under their recorded webhook-id, so a crash between commit and enqueue still delivers, and
 * never under a second id. Returns how many series it queued.
 */
export async function enqueueMissingCallbacks(queue: CallbackQueue, store: CallbackStore, opts: { graceMs?: number; limit?: number } = {}): Promise<number> {
  const rows = await store.findUnqueued(opts.graceMs ?? CALLBACK_SWEEP_GRACE_MS, opts.limit ?? 500);
  let queued = 0;
  for (const row of rows) if (await enqueueCallback(row, queue, store)) queued++;
  return queued;
}
