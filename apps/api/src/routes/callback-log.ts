import { Router, type Request, type Response } from 'express';
// p-map 4: its last CommonJS major (see apps/worker/src/batches/poll-llm-batches.ts).
import pMap from 'p-map';
import { DependencyDownError, redeliverCallbacksBodySchema } from '@jobs/core';
import { CallbackAttemptsStore, type DeliveryRow } from '@jobs/db';
import type { CallbackQueue } from '@jobs/queue';
import { deliverySnapshot } from '@jobs/service';
import type { AppDeps } from '../deps';
import { actorOf, requireRole } from '../middleware/auth';
import { toApiCallbackAttempt } from '../presenters/callback-attempt';
import { parse, pathId } from '../middleware/validate';
import type { RouteTable } from '../route-table';

/** Series queued at once by a bulk redelivery: bounded so one request does not flood Redis. */
const ENQUEUE_CONCURRENCY = 20;

/**
 * The callback delivery log (SPEC F6): `GET /api/jobs/{id}/callback/attempts`, scoped as the job itself,
 * and `POST /api/admin/callbacks/redeliver`, a new attempt budget for every series that ended undelivered.
 */
export function callbackLogRoutes(deps: AppDeps, table: RouteTable): Router {
  const r = Router();
  const attempts = new CallbackAttemptsStore(deps.db);

  table.add(r, 'get', '/api/jobs/:id/callback/attempts', async (req: Request, res: Response) => {
    // Another organization's job is a 404 here exactly as on GET /api/jobs/{id}.
    const job = await deps.jobs.get(actorOf(req), pathId('job', req.params['id']));
    res.json((await attempts.forJob(job.id)).map(toApiCallbackAttempt));
  });

  table.add(r, 'post', '/api/admin/callbacks/redeliver', requireRole('admin'), async (req: Request, res: Response) => {
    const body = parse(redeliverCallbacksBodySchema, req.body);
    const actor = actorOf(req);
    let organizationId = body.organization_id ?? (actor.role === 'operator' ? null : actor.organizationId);
    // getOrganization answers 404 for an organization the caller may not see, or that does not exist.
    if (organizationId !== null) organizationId = (await deps.accounts.getOrganization(actor, organizationId)).id;
    if (!deps.callbacks) throw new DependencyDownError('the callback queue');
    const series = await attempts.reopenUndelivered({ organizationId, since: new Date(body.since) });
    await enqueueAll(deps.callbacks.queue, series);
    deps.logger.info('callback redelivery requested', {
      organization_id: organizationId,
      since: body.since,
      series: series.length,
    });
    res.status(202).json({ series: series.length });
  });
  return r;
}

/**
 * Queues the reopened series under their own webhook-ids. A series left unqueued by a failure here is
 * `queued` and overdue for the sweep, which finds its old queue entry finished and settles it `failed`
 * again, so the request can simply be repeated.
 */
async function enqueueAll(queue: CallbackQueue, series: readonly DeliveryRow[]): Promise<void> {
  await pMap(series, (row) => queue.redeliver(deliverySnapshot(row)), { concurrency: ENQUEUE_CONCURRENCY });
}
