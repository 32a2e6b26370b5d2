import { Queue } from 'bullmq';
import { backgroundErrorListener } from '@jobs/observability';
import type { RedisClient as Redis } from './redis';
import { POLL_LLM_BATCHES, SCHEDULER_QUEUE, leaderLockKey, schedulerLastErrorKey, schedulerLastRunKey, schedulerLastSuccessKey } from './names';

/** When a scheduled handler last finished well, and last failed (ISO times; null: not since Redis was empty). */
export interface ScheduledHandlerRuns {
  last_success_at: string | null;
  last_error_at: string | null;
}

/** `GET /api/admin/scheduler/status` of API.md. */
export interface SchedulerStatus {
  leader: boolean;
  leader_id: string | null;
  lock_ttl_ms: number;
  /** How long the current holder's lock has left (null when nobody leads). */
  lock_expires_in_ms: number | null;
  repeatable_jobs: { name: string; every_ms: number | null; next_run_at: string | null; last_success_at: string | null }[];
  last_poll: Record<string, unknown> | null;
  /** Every handler that is registered or ever ran, by name: a leader that leads nothing shows here as age. */
  last_runs: Record<string, ScheduledHandlerRuns>;
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
    const [holder, pttl, lastPoll, schedulers, lastRuns] = await Promise.all([
      this.redis.get(key),
      this.redis.pttl(key),
      this.redis.get(schedulerLastRunKey(this.prefix, POLL_LLM_BATCHES)),
      this.queue.getJobSchedulers(),
      this.lastRuns(),
    ]);
    for (const s of schedulers) lastRuns[s.key] ??= { last_success_at: null, last_error_at: null };
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
          last_success_at: lastRuns[s.key]?.last_success_at ?? null,
        }))
        .sort((a, b) => a.name.localeCompare(b.name)),
      last_poll: lastPoll ? (JSON.parse(lastPoll) as Record<string, unknown>) : null,
      last_runs: Object.fromEntries(Object.entries(lastRuns).sort(([a], [b]) => a.localeCompare(b))),
    };
  }

  /** The last success and failure of every handler that has run (the scheduler records them in Redis). */
  async lastRuns(): Promise<Record<string, ScheduledHandlerRuns>> {
    const [ok, failed] = await Promise.all([this.redis.hgetall(schedulerLastSuccessKey(this.prefix)), this.redis.hgetall(schedulerLastErrorKey(this.prefix))]);
    const iso = (ms: string | undefined) => (ms && Number.isFinite(Number(ms)) ? new Date(Number(ms)).toISOString() : null);
    const runs: Record<string, ScheduledHandlerRuns> = {};
    for (const name of new Set([...Object.keys(ok), ...Object.keys(failed)])) runs[name] = { last_success_at: iso(ok[name]), last_error_at: iso(failed[name]) };
    return runs;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
