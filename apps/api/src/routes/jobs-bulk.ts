import { Router, type Request, type Response } from 'express';
import { ValidationError, bulkCreateBodySchema } from '@jobs/core';
import { toApiJob } from '../presenters/job';
import { createJobsInBulk } from '../bulk-create';
import type { AppDeps } from '../deps';
import { actorOf } from '../middleware/auth';
import { parse } from '../middleware/validate';
import type { RouteTable } from '../route-table';

/** `POST /api/jobs/bulk` (API.md, second version): all the jobs or none, answered in the order given. */
export function bulkJobRoutes(deps: AppDeps, table: RouteTable): Router {
  const r = Router();
  table.add(r, 'post', '/api/jobs/bulk', async (req: Request, res: Response) => {
    // One header key cannot stand for many requests; each item carries its own.
    if (req.get('idempotency-key') !== undefined) {
      throw new ValidationError([{ path: 'idempotency_key', message: 'give each item its own idempotency_key; the Idempotency-Key header is for single creates' }]);
    }
    const body = parse(bulkCreateBodySchema, req.body);
    const jobs = await createJobsInBulk(deps, actorOf(req), body);
    res.status(201).json({ jobs: jobs.map(toApiJob) });
  });
  return r;
}
