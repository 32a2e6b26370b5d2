import { Queue } from 'bullmq';
import { backgroundErrorListener } from '@jobs/observability';
import type { Redis } from 'ioredis';
import { POLL_LLM_BATCHES, SCHEDULER_QUEUE, leaderLockKey, schedulerLastRunKey } from './names';

/** `GET /api/admin/scheduler/status` of API.md. */
export interface SchedulerStatus {
  leader: boolean;
  leader_id: string | null;
  lock_ttl_ms: number;
  /** How long the current holder's lock has left (null when nobody leads). */
  lock_expires_in_ms: number | null;
  repeatable_jobs: { name: string; every_ms: number | null; next_run_at: string | null }[];
  last_poll: Record<string, unknown> | null;
}

/**
 * Reads the scheduler's state from Redis for any process (the API has no lock of its own): the lock holder,
 * the BullMQ job schedulers the leader registered, and the summary of the last poll cycle.
 */
export class SchedulerStatusReader {
  private readonly queue: Queue;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly lockTtlMs: number,
  ) {
    this.queue = new Queue(SCHEDULER_QUEUE, { connection: redis, prefix, skipVersionCheck: true });
    this.queue.on('error', backgroundErrorListener('bullmq_queue'));
  }

  async read(): Promise<SchedulerStatus> {
    const key = leaderLockKey(this.prefix);
    const [holder, pttl, lastPoll, schedulers] = await Promise.all([
      this.redis.get(key),
      this.redis.pttl(key),
      this.redis.get(schedulerLastRunKey(this.prefix, POLL_LLM_BATCHES)),
      this.queue.getJobSchedulers(),
    ]);
    return {
      leader: holder !== null,
      leader_id: holder,
      lock_ttl_ms: this.lockTtlMs,
      lock_expires_in_ms: holder !== null && pttl >= 0 ? pttl : null,
      repeatable_jobs: schedulers
        .map((s) => ({
          name: s.key,
          every_ms: s.every !== undefined && s.every !== null ? Number(s.every) : null,
          next_run_at: s.next ? new Date(s.next).toISOString() : null,
        }))
        .sort((a, b) => a.name.localeCompare(b.name)),
      last_poll: lastPoll ? (JSON.parse(lastPoll) as Record<string, unknown>) : null,
    };
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
