import { Router, type Request, type Response } from 'express';
import { DependencyDownError, idSchema } from '@jobs/core';
import { pageLimitSchema } from '../query-schemas';
import { BatchStore } from '@jobs/db';
import { z } from 'zod';
import type { AppDeps } from '../deps';
import { actorOf, requireRole } from '../middleware/auth';
import { parse } from '../middleware/validate';
import { setNextLink } from '../pagination';
import type { RouteTable } from '../route-table';
import { toApiBatchJob } from '../presenters/batch';

export const listBatchJobsQuerySchema = z.object({
  organization_id: idSchema('org').optional(),
  limit: pageLimitSchema,
  after: idSchema('job').optional(),
});

/** The scheduler's state and the LLM batches with their polling state (admin: own organization; operator: all). */
export function schedulerAdminRoutes(deps: AppDeps, table: RouteTable): Router {
  const r = Router();
  const admin = requireRole('admin');
  const batches = new BatchStore(deps.db);

  table.add(r, 'get', '/api/admin/scheduler/status', admin, async (_req: Request, res: Response) => {
    if (!deps.schedulerStatus) throw new DependencyDownError('redis');
    res.json(await deps.schedulerStatus.read());
  });

  table.add(r, 'get', '/api/admin/batch-jobs', admin, async (req: Request, res: Response) => {
    const q = parse(listBatchJobsQuerySchema, req.query);
    const rows = await batches.listForAdmin(actorOf(req), { limit: q.limit, ...(q.organization_id ? { organizationId: q.organization_id } : {}), ...(q.after ? { after: q.after } : {}) });
    if (rows.length === q.limit) {
      setNextLink(req, res, rows[rows.length - 1]!.job_id);
    }
    res.json(rows.map(toApiBatchJob));
  });
  return r;
}
