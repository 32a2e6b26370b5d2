import { Router, type Request, type Response } from 'express';
import { ConflictError, DependencyDownError, isTerminal } from '@jobs/core';
import { callbackSnapshot } from '@jobs/service';
import type { AppDeps } from '../deps';
import { actorOf } from '../middleware/auth';
import { pathId } from '../middleware/validate';
import type { RouteTable } from '../route-table';
import { toApiJob } from '../presenters/job';

/**
 * `POST /api/jobs/{id}/callback/redeliver`: replays the job's latest callback series under the same
 * webhook-id (receivers deduplicate on it) with a fresh attempt budget. 202 with the Job.
 */
export function callbackRoutes(deps: AppDeps, table: RouteTable): Router {
  const r = Router();
  table.add(r, 'post', '/api/jobs/:id/callback/redeliver', async (req: Request, res: Response) => {
    const job = await deps.jobs.get(actorOf(req), pathId('job', req.params['id']));
    if (!job.callback_url) throw new ConflictError(`Job ${job.id} has no callback_url`);
    if (!isTerminal(job.status)) throw new ConflictError(`Job ${job.id} is ${job.status}; its callback is sent once it is terminal`);
    const data = callbackSnapshot(job);
    if (!data) throw new ConflictError(`Job ${job.id} has no callback series to replay`);
    if (!deps.callbacks) throw new DependencyDownError('the callback queue');
    // The series row is `queued` again first: whatever happens to the queue call, the sweep then watches it.
    await deps.callbacks.store.reopen({ ...data, job_attempt: job.attempts, completed_at: job.completed_at });
    const outcome = await deps.callbacks.queue.redeliver(data);
    await deps.callbacks.store.markEnqueued(job.id, data.webhook_id);
    deps.logger.info('callback redelivery requested', { job_id: job.id, webhook_id: data.webhook_id, outcome });
    res.status(202).json(toApiJob(job));
  });
  return r;
}
