import { Queue, type JobsOptions } from 'bullmq';
import { backgroundErrorListener } from '@jobs/observability';
import { type RedisClient as Redis, READY_WAIT_MS, waitReady } from './redis';
import { jobStates } from './job-states';
import { JOBS_QUEUE } from './names';
import { FairScheduler, type FairJob, type FairSchedulerOptions } from './fair-scheduler';

/** What the queue needs of a job row to schedule it: the same as fair dispatch needs to stage it. */
export type Enqueueable = FairJob;

export interface JobQueueData {
  organization_id: string;
  /** Set by fair dispatch: this delivery had its turn. A retry or hand-back clears it, and comes back to staging. */
  dispatched?: boolean;
  /** Set by fair dispatch on jobs with a key: the slot the delivery must hold. */
  concurrency_key?: string;
  concurrency_limit?: number;
}

/** FAIR_SCHEDULING on: adds go through staging and fair dispatch instead of straight into BullMQ. */
export type JobQueueFairness = Pick<FairSchedulerOptions, 'leaseMs' | 'backlog' | 'onError' | 'maxPick'>;

/**
 * API.md: priority 1 runs first, 100 last, and a job without one ranks as 50. BullMQ takes every
 * unprioritized job before any prioritized one, so every job is queued with a priority.
 */
export const DEFAULT_PRIORITY = 50;

/** The BullMQ priority of a row: its own, or the default rank. */
export function queuePriority(priority: number | null): number {
  return priority ?? DEFAULT_PRIORITY;
}


/** Finished BullMQ entries are kept briefly for the dashboard; the jobs table is the record. */
export const JOB_RETENTION: Pick<JobsOptions, 'removeOnComplete' | 'removeOnFail'> = {
  removeOnComplete: { age: 3600, count: 1000 },
  removeOnFail: { age: 24 * 3600, count: 5000 },
};

/** Producer side of the `jobs` queue. The BullMQ job id is the row id, so adding twice is harmless. */
export class JobQueue {
  readonly queue: Queue<JobQueueData>;
  /** Fair dispatch, when FAIR_SCHEDULING is on: every add below stages the job instead. */
  readonly fair?: FairScheduler;

  constructor(
    private readonly connection: Redis,
    prefix: string,
    fairness?: JobQueueFairness,
  ) {
    this.queue = new Queue<JobQueueData>(JOBS_QUEUE, { connection, prefix, skipVersionCheck: true });
    // Outages reach callers as rejected adds (503); unheard, BullMQ would also print every connection error.
    this.queue.on('error', backgroundErrorListener('bullmq_queue'));
    if (fairness) this.fair = new FairScheduler(connection, this.queue, prefix, { ...fairness, priorityOf: queuePriority, addOptions: { ...JOB_RETENTION } });
  }

  async enqueue(job: Enqueueable): Promise<void> {
    // BullMQ waits indefinitely for a connection that never came up; callers want a fast failure instead
    // (the API then leaves the row `created` for the reconciler).
    await waitReady(this.connection, READY_WAIT_MS);
    if (this.fair && !isDelayed(job)) {
      await this.fair.stage([job]);
      this.fair.requestDispatch();
      return;
    }
    // A delayed job waits in BullMQ (visible as delayed); when due, the worker stages it for its turn.
    await this.queue.add(job.task, { organization_id: job.organization_id }, addOptions(job));
  }

  /**
   * Adds many jobs in one round trip (BullMQ's addBulk: one MULTI). Ids already queued are left as they are, as
   * with `enqueue`; callers pass ids with no entry at all (`missing` in `states`).
   */
  async enqueueMany(jobs: readonly Enqueueable[]): Promise<void> {
    if (jobs.length === 0) return;
    await waitReady(this.connection, READY_WAIT_MS);
    let direct = jobs;
    if (this.fair) {
      const due = jobs.filter((j) => !isDelayed(j));
      await this.fair.stage(due);
      if (due.length > 0) this.fair.requestDispatch();
      direct = jobs.filter(isDelayed);
      if (direct.length === 0) return;
    }
    await this.queue.addBulk(direct.map((job) => ({ name: job.task, data: { organization_id: job.organization_id }, opts: addOptions(job) })));
  }

  /**
   * Enqueues a job again (retry, reconciler): a finished BullMQ entry under the same id would make
   * the add a no-op, so it is removed first. Waiting, delayed or active entries are left alone.
   */
  async requeue(job: Enqueueable, opts: { waitForActiveMs?: number } = {}): Promise<void> {
    await waitReady(this.connection, READY_WAIT_MS);
    const existing = await this.queue.getJob(job.id);
    if (existing) {
      let state = await existing.getState();
      // A retry right after a cancel can find the old attempt's entry still finishing; once it has, it can be replaced.
      for (const until = Date.now() + (opts.waitForActiveMs ?? 0); state === 'active' && Date.now() < until; ) {
        await new Promise((r) => setTimeout(r, 50));
        state = await existing.getState();
      }
      if (state === 'completed' || state === 'failed' || state === 'unknown') {
        await existing.remove().catch(() => undefined);
      } else {
        return;
      }
    }
    await this.enqueue(job);
  }

  /** The BullMQ state of a job id ('unknown' when the queue holds no entry for it; 'staged' when fair dispatch holds it). */
  async state(id: string): Promise<string> {
    await waitReady(this.connection, READY_WAIT_MS);
    const state = await this.queue.getJobState(id);
    if (this.fair && !QUEUED.has(state) && (await this.fair.staged([id])).has(id)) return 'staged';
    return state;
  }

  /** The BullMQ states of many ids in one round trip (see jobStates; `missing`: no trace of the id at all). */
  async states(ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    await waitReady(this.connection, READY_WAIT_MS);
    const states = await jobStates(this.queue, this.connection, ids);
    // A staged job is as good as queued: fair dispatch will add it when its turn comes.
    const staged = this.fair ? await this.fair.staged(ids) : new Set<string>();
    return new Map(ids.map((id, i) => [id, staged.has(id) && !QUEUED.has(states[i]!) ? 'staged' : states[i]!]));
  }

  /** Removes a job that has not started; an active one is left to its worker (it sees the cancelled row). */
  async removeIfWaiting(id: string): Promise<void> {
    await waitReady(this.connection, READY_WAIT_MS);
    if (this.fair) await this.fair.unstage([id]);
    const existing = await this.queue.getJob(id);
    if (!existing) return;
    const state = await existing.getState();
    if (state === 'active') return;
    const removed = await existing.remove().then(
      () => true,
      () => false,
    );
    // A dispatched entry that never ran holds its slots: they go back now, not when their lease would lapse.
    const data = existing.data;
    if (removed && this.fair && data?.dispatched) {
      this.fair.releaseLater({ id, organization_id: data.organization_id, concurrency_key: data.concurrency_key ?? null, concurrency_limit: data.concurrency_limit ?? null });
    }
  }

  async close(): Promise<void> {
    await this.fair?.close();
    await this.queue.close();
  }
}

/** BullMQ states in which an entry will be delivered (a staged id with one of these is not reported `staged`). */
const QUEUED = new Set(['waiting', 'wait', 'delayed', 'prioritized', 'active', 'waiting-children', 'paused']);

function isDelayed(job: Enqueueable): boolean {
  return job.run_at !== null && job.run_at.getTime() > Date.now();
}

// Retries (moveToDelayed) and hand-backs keep the entry's options, so they stay prioritized too.
function addOptions(job: Enqueueable): JobsOptions {
  const delay = job.run_at ? Math.max(0, job.run_at.getTime() - Date.now()) : 0;
  return { jobId: job.id, ...(delay > 0 ? { delay } : {}), priority: queuePriority(job.priority), ...JOB_RETENTION };
}

/** The fair dispatch options the settings ask for; undefined when FAIR_SCHEDULING is off (adds go straight to BullMQ). */
export function fairnessOf(
  s: { FAIR_SCHEDULING: boolean; FAIR_BACKLOG?: number | undefined; LOCK_DURATION_MS: number },
  onError: (err: unknown) => void,
): JobQueueFairness | undefined {
  return s.FAIR_SCHEDULING ? { leaseMs: s.LOCK_DURATION_MS, backlog: s.FAIR_BACKLOG, onError } : undefined;
}
