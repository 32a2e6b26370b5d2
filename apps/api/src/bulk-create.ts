import { ValidationError, type Actor, type BulkCreateBody, type FieldError } from '@jobs/core';
import type { CreateJobInput, JobRow } from '@jobs/db';
import type { AppDeps } from './deps';

/**
 * `POST /api/jobs/bulk` after its body parsed: every item checked as a single create checks it, then all rows
 * (already `pending`, with both creation events) in one statement and one BullMQ addBulk. The rows are the
 * commitment: once they exist the answer is a success, and a failed add returns them to `created` for the
 * reconciler, exactly as a single create does.
 */
export async function createJobsInBulk(deps: AppDeps, actor: Actor, body: BulkCreateBody): Promise<JobRow[]> {
  const inputs = await checkedInputs(deps, body);
  const outcomes = await deps.jobs.createMany(actor, inputs, { queued: true });
  const fresh = [...new Map(outcomes.filter((o) => o.created).map((o) => [o.job.id, o.job])).values()];
  const queued = new Map((await enqueueAll(deps, fresh)).map((job) => [job.id, job]));
  return outcomes.map((o) => queued.get(o.job.id) ?? o.job);
}

/** Task inputs and callback URLs of every item, with each failure named by its item (`jobs.3.input.ms`). */
async function checkedInputs(deps: AppDeps, body: BulkCreateBody): Promise<CreateJobInput[]> {
  const errors: FieldError[] = [];
  const within = (i: number, err: unknown) => {
    if (!(err instanceof ValidationError)) throw err;
    for (const e of err.errors ?? []) errors.push({ path: `jobs.${i}.${e.path}`, message: e.message });
  };
  // Many items usually share a callback URL: each distinct one is resolved and checked once.
  const urls = [...new Set(body.jobs.flatMap((j) => (j.callback_url ? [j.callback_url] : [])))];
  const check = deps.checkCallbackUrl;
  const refused = new Map<string, unknown>();
  if (check) {
    await Promise.all(urls.map((url) => check(url).catch((err: unknown) => void refused.set(url, err))));
  }
  const inputs = body.jobs.map((job, i) => {
    const { wait_ms: _wait, ...rest } = job;
    let input: Record<string, unknown> = {};
    try {
      input = deps.tasks.validate(job.task, job.input);
    } catch (err) {
      within(i, err);
    }
    if (job.callback_url && refused.has(job.callback_url)) within(i, refused.get(job.callback_url));
    // A task may say what its jobs are (anthropic.message makes runs), as with a single create.
    return { ...rest, input, job_type: deps.tasks.get(job.task)?.jobType ?? 'job' };
  });
  if (errors.length > 0) throw new ValidationError(errors);
  return inputs;
}

/** One addBulk; if it fails, one statement returns the rows to `created` (rows that moved on answer as they are now). */
async function enqueueAll(deps: AppDeps, jobs: JobRow[]): Promise<JobRow[]> {
  if (jobs.length === 0) return [];
  try {
    await deps.queue.enqueueMany(jobs);
    return jobs;
  } catch (err) {
    deps.logger.warn('bulk enqueue failed; the reconciler will queue the jobs', { jobs: jobs.length, err: String(err) });
  }
  try {
    const created = new Map((await deps.jobs.unqueue(jobs.map((j) => j.id))).map((j) => [j.id, j]));
    return await Promise.all(jobs.map(async (job) => created.get(job.id) ?? (await deps.jobs.findById(job.id)) ?? job));
  } catch (err) {
    deps.logger.warn('could not return unqueued jobs to created; answering with them as stored', { jobs: jobs.length, err: String(err) });
    return jobs;
  }
}
