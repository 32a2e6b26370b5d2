import { schedulerLastSuccess } from '@jobs/observability';
import type { SchedulerStatusReader } from '@jobs/queue';

/**
 * Sets jobsvc_scheduler_last_success_timestamp_seconds{name} from what the scheduler recorded in Redis, at
 * scrape time: the value is the service's, not one process's, so it survives a change of leader.
 */
export async function refreshSchedulerLastSuccess(reader: SchedulerStatusReader): Promise<void> {
  const runs = await reader.lastRuns();
  for (const [name, r] of Object.entries(runs)) {
    if (r.last_success_at) schedulerLastSuccess.set({ name }, Date.parse(r.last_success_at) / 1000);
  }
}
