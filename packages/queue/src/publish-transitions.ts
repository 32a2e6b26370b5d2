import type { JobManager } from '@jobs/db';
import type { JobBus } from './job-bus';

/** Every transition this process writes is announced on the bus (waiters, event streams). */
export function publishTransitions(jobs: JobManager, bus: JobBus, onError: (err: unknown) => void): void {
  jobs.onTransition(({ job, event }) => {
    bus
      .publishEvent({ job_id: job.id, organization_id: job.organization_id, status: job.status, event })
      .catch(onError);
  });
}
