import type { JobStore } from '@jobs/db';
import type { BusEvent, JobBus } from '@jobs/queue';

/**
 * Every transition this process writes is announced on the bus (waiters, event streams). Transitions
 * written in the same tick (a batched statement announces all its rows at once) share one message.
 */
export function publishTransitions(jobs: JobStore, bus: JobBus, onError: (err: unknown) => void): void {
  let pending: BusEvent[] = [];
  jobs.onTransition(({ job, event, creation }) => {
    // A creation has no audience: nobody can follow a job before its id is returned, and streams read
    // history from the table. Skipping it (and the `pending` a queued insert writes with it) saves a publish
    // (and a delivery to every subscriber) per job.
    if (event.from === null || creation) return;
    pending.push({ job_id: job.id, organization_id: job.organization_id, status: job.status, event });
    if (pending.length > 1) return;
    queueMicrotask(() => {
      const batch = pending;
      pending = [];
      bus.publishEvents(batch).catch(onError);
    });
  });
}
