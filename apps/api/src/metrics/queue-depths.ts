import type { Queue } from 'bullmq';
import { queueDepth } from '@jobs/observability';

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const;

/**
 * Sets jobsvc_queue_jobs{queue,state} from BullMQ's counts when /metrics is scraped. Counting is a few
 * Redis calls per queue, so a result is reused for `cacheMs`: frequent or concurrent scrapes cost one count.
 */
export class QueueDepths {
  private fresh = 0;
  private inFlight?: Promise<void>;

  constructor(
    private readonly queues: readonly Queue[],
    private readonly cacheMs = 5000,
  ) {}

  async refresh(): Promise<void> {
    if (Date.now() - this.fresh < this.cacheMs) return;
    this.inFlight ??= this.count().finally(() => {
      this.inFlight = undefined;
    });
    await this.inFlight;
  }

  private async count(): Promise<void> {
    const counts = await Promise.all(this.queues.map((q) => q.getJobCounts(...STATES)));
    this.queues.forEach((q, i) => {
      for (const state of STATES) queueDepth.set({ queue: q.name, state }, counts[i]![state] ?? 0);
    });
    this.fresh = Date.now();
  }
}
