import { Router, type Request, type Response, type NextFunction } from 'express';
import { ForbiddenError, hasRole } from '@jobs/core';
import { registry } from '@jobs/observability';
import { clusterMetrics } from '@jobs/queue';
import type { AppDeps } from '../deps';
import type { QueueDepths } from '../metrics/queue-depths';
import { refreshSchedulerLastSuccess } from '../metrics/scheduler-last-success';
import { refreshOrganizationLoads } from '../metrics/organization-loads';
import { checkHealth } from '../health';
import { authenticate } from '../middleware/auth';
import type { RouteTable } from '../route-table';

/** Health (no auth) and Prometheus metrics (operator, or public when METRICS_PUBLIC=true). */
export function operationsRoutes(deps: AppDeps, table: RouteTable, depths?: QueueDepths): Router {
  const r = Router();
  table.add(r, 'get', '/api/health', async (_req: Request, res: Response) => {
    const report = await checkHealth(deps.db, deps.redis);
    res.setHeader('Cache-Control', 'no-store');
    // Load balancers and clients back off on a degraded answer like on any other dependency outage.
    if (report.status !== 'ok') res.setHeader('Retry-After', '5');
    res.status(report.status === 'ok' ? 200 : 503).json(report);
  });
  table.add(r, 'get', '/api/health/live', (_req: Request, res: Response) => {
    res.json({ status: 'ok' });
  });
  const metricsAuth = deps.settings.METRICS_PUBLIC
    ? (_req: Request, _res: Response, next: NextFunction) => next()
    : authenticate(deps.accounts);
  table.add(r, 'get', '/metrics', metricsAuth, async (req: Request, res: Response) => {
    if (!deps.settings.METRICS_PUBLIC && !(req.actor && hasRole(req.actor, 'operator'))) throw new ForbiddenError('Metrics need an operator key');
    // Counting is best effort: with Redis down the depths stay as last counted and the rest still answers.
    await depths?.refresh().catch(() => undefined);
    if (deps.queue.fair) await refreshOrganizationLoads(deps.queue.fair).catch(() => undefined);
    if (deps.schedulerStatus) await refreshSchedulerLastSuccess(deps.schedulerStatus).catch(() => undefined);
    res.setHeader('Cache-Control', 'no-store');
    res.type(registry.contentType).send(await clusterMetrics(deps.redis, deps.settings.QUEUE_PREFIX, registry));
  });
  return r;
}
