import { BadRequestError, isTerminal, type Actor, type CreateJobBody, type JobType } from '@jobs/core';
import type { JobRow } from '@jobs/db';
import type { BusEvent } from '@jobs/queue';
import type { AppDeps } from './deps';

export interface CreateOutcome {
  job: JobRow;
  created: boolean;
}

/**
 * The job flows of ARCHITECTURE.md on the API side: create = insert (already `pending`, with its `created` and
 * `pending` events) → enqueue, and back to `created` if the enqueue fails;
 * cancel = guarded write, then remove from the queue and broadcast to the worker running it.
 */
export class JobCommands {
  constructor(private readonly deps: AppDeps) {}

  /**
   * `afterInsert` runs between the insert and the enqueue (e.g. to store a batch's items before any worker can
   * see the job). `refuseNew` is thrown instead of creating a job; an idempotent replay is answered regardless.
   */
  async create(
    actor: Actor,
    body: CreateJobBody,
    jobType: JobType = 'job',
    hooks: { afterInsert?: (job: JobRow) => Promise<void>; refuseNew?: () => Error } = {},
  ): Promise<CreateOutcome> {
    const input = this.deps.tasks.validate(body.task, body.input);
    if (body.callback_url && this.deps.checkCallbackUrl) await this.deps.checkCallbackUrl(body.callback_url);
    const { wait_ms: _wait, ...rest } = body;
    // A task may say what its jobs are (anthropic.message makes runs), whichever route created them.
    const type = this.deps.tasks.get(body.task)?.jobType ?? jobType;
    const outcome = await this.deps.jobs.create(actor, { ...rest, input, job_type: type }, { queued: true, ...(hooks.refuseNew ? { refuseNew: hooks.refuseNew } : {}) });
    if (!outcome.created) return outcome;
    if (hooks.afterInsert) {
      try {
        await hooks.afterInsert(outcome.job);
      } catch (err) {
        // The client gets an error, so the row must not run: the reconciler would otherwise queue it.
        await this.deps.jobs.discardUnqueued(outcome.job.id).catch((e: unknown) =>
          this.deps.logger.error('could not discard a job whose create failed', { job_id: outcome.job.id, err: String(e) }),
        );
        throw err;
      }
    }
    return { job: await this.enqueue(outcome.job), created: true };
  }

  /**
   * Queues a row inserted `pending`: its write is already committed, so a success costs no further statement. If
   * Redis is unreachable the row goes back to `created` (API.md: a job that could not be queued answers `created`)
   * for the reconciler, which queues `created` and `pending` rows alike. The row exists either way, so the create
   * succeeds whatever happens after the insert: a 5xx would make the client's retry a duplicate (201 or nothing).
   */
  async enqueue(job: JobRow): Promise<JobRow> {
    try {
      await this.deps.queue.enqueue(job);
      return job;
    } catch (err) {
      this.deps.logger.warn('enqueue failed; the reconciler will queue the job', { job_id: job.id, err: String(err) });
    }
    try {
      // The add may still land (a stalled connection): a worker then takes the `created` row through `pending`.
      const [created] = await this.deps.jobs.unqueue([job.id]);
      // Absent when the row moved on meanwhile (a worker took it, a cancel): it then speaks for itself.
      return created ?? (await this.deps.jobs.findById(job.id)) ?? job;
    } catch (err) {
      this.deps.logger.warn('could not return an unqueued job to created; answering with it as stored', { job_id: job.id, err: String(err) });
      return job;
    }
  }

  async cancel(actor: Actor, id: string): Promise<JobRow> {
    const job = await this.deps.jobs.cancel(actor, id);
    await this.stopEverywhere(job);
    return job;
  }

  async retry(actor: Actor, id: string): Promise<JobRow> {
    const job = await this.deps.jobs.retry(actor, id);
    try {
      await this.deps.queue.requeue(job, { waitForActiveMs: 2000 });
    } catch (err) {
      this.deps.logger.warn('requeue failed; the reconciler will queue the job', { job_id: id, err: String(err) });
    }
    return job;
  }

  async delete(actor: Actor, id: string): Promise<JobRow> {
    const job = await this.deps.jobs.delete(actor, id);
    await this.stopEverywhere(job);
    return job;
  }

  /**
   * Cancels a job on the service's own account (a deleted source, a timed-out file), without an actor: the
   * caller has already checked the organization. A job that already ended is left as it is.
   */
  async cancelById(id: string, reason: string, stopReason = 'cancelled'): Promise<void> {
    const job = await this.deps.jobs.transition(id, 'cancelled', { from: ['created', 'pending', 'running'], reason, stopReason });
    if (job) await this.stopEverywhere(job);
  }

  /** Best effort: the row already says `cancelled`, which every worker checks before and after running. */
  private async stopEverywhere(job: JobRow): Promise<void> {
    await Promise.all([
      this.deps.queue.removeIfWaiting(job.id),
      this.deps.bus.publishCancel({ job_id: job.id, attempt: job.attempts, reason: 'cancelled' }),
    ]).catch((err: unknown) => this.deps.logger.warn('cancel broadcast failed', { job_id: job.id, err: String(err) }));
  }

  /**
   * Waits until the job is terminal or `ms` pass, listening on the event bus and re-reading the row now
   * and then (a missed pub/sub message costs at most one poll interval).
   */
  async waitForTerminal(id: string, ms: number): Promise<JobRow> {
    const deadline = Date.now() + ms;
    const bus = this.deps.bus;
    let wake: (() => void) | undefined;
    const onEvent = (e: BusEvent) => {
      if (isTerminal(e.event.to as JobRow['status'])) wake?.();
    };
    bus.on(`job:${id}`, onEvent);
    try {
      for (;;) {
        const row = await this.deps.jobs.findById(id);
        if (!row) throw new BadRequestError(`Job ${id} was deleted while waiting`);
        const left = deadline - Date.now();
        if (isTerminal(row.status) || left <= 0) return row;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(left, 1000));
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    } finally {
      bus.off(`job:${id}`, onEvent);
    }
  }
}
