import { Router, type Request, type Response } from 'express';
import {
  ForbiddenError,
  NotFoundError,
  createApiKeyBodySchema,
  createOrganizationBodySchema,
  createUserBodySchema,
  idSchema,
  updateOrganizationBodySchema,
} from '@jobs/core';
import type { AppDeps } from '../deps';
import { actorOf, requireRole } from '../middleware/auth';
import { parse, pathId } from '../middleware/validate';
import type { RouteTable } from '../route-table';
import { z } from 'zod';
import { toApiKey, toApiOrganization, toApiUser } from '../presenters/account';
import { setNextLink } from '../pagination';
import { listUsersQuerySchema } from '../query-schemas';

export const listKeysQuerySchema = z.object({ organization_id: idSchema('org').optional() });

/** Organizations, users and API keys. Admins act within their organization; operators anywhere. */
export function adminRoutes(deps: AppDeps, table: RouteTable): Router {
  const r = Router();
  const admin = requireRole('admin');
  const operator = requireRole('operator');

  table.add(r, 'post', '/api/admin/organizations', operator, async (req: Request, res: Response) => {
    const body = parse(createOrganizationBodySchema, req.body);
    res.status(201).json(toApiOrganization(await deps.accounts.createOrganization(body.name)));
  });
  table.add(r, 'get', '/api/admin/organizations/:id', admin, async (req: Request, res: Response) => {
    res.json(toApiOrganization(await deps.accounts.getOrganization(actorOf(req), pathId('org', req.params['id']))));
  });
  // An organization's fair share is the fleet's business, so only an operator sets it (SPEC F16).
  table.add(r, 'patch', '/api/admin/organizations/:id', operator, async (req: Request, res: Response) => {
    const id = pathId('org', req.params['id']);
    const body = parse(updateOrganizationBodySchema, req.body);
    const org = await deps.accounts.updateOrganizationFairness(id, body);
    if (!org) throw new NotFoundError(`Organization ${id} not found`);
    // Fair dispatch reads the new values at once (best effort: workers also re-read Postgres every few seconds).
    await deps.queue.fair?.applySettings([{ id: org.id, weight: org.weight, max_concurrency: org.maxConcurrency }], false).catch((err: unknown) => deps.logger.warn('fairness settings not pushed to Redis; workers pick them up shortly', { organization_id: org.id, err: String(err) }));
    res.json(toApiOrganization(org));
  });
  table.add(r, 'post', '/api/admin/organizations/:id/webhook-secret/rotate', admin, async (req: Request, res: Response) => {
    res.json(toApiOrganization(await deps.accounts.rotateWebhookSecret(actorOf(req), pathId('org', req.params['id']))));
  });
  table.add(r, 'post', '/api/admin/users', admin, async (req: Request, res: Response) => {
    const body = parse(createUserBodySchema, req.body);
    res.status(201).json(toApiUser(await deps.accounts.createUser(actorOf(req), body.organization_id, body.name)));
  });
  table.add(r, 'get', '/api/admin/users', admin, async (req: Request, res: Response) => {
    const { organization_id, ...query } = parse(listUsersQuerySchema, req.query);
    const users = await deps.accounts.listUsers(actorOf(req), { organizationId: organization_id, query });
    if (users.length === query.limit) setNextLink(req, res, users[users.length - 1]!.id);
    res.json(users.map(toApiUser));
  });
  table.add(r, 'post', '/api/admin/api-keys', admin, async (req: Request, res: Response) => {
    const body = parse(createApiKeyBodySchema, req.body);
    const actor = actorOf(req);
    if (body.role === 'operator' && actor.role !== 'operator') throw new ForbiddenError('Only an operator can create operator keys');
    res.status(201).json(toApiKey(await deps.accounts.createApiKey(actor, body.user_id, body.role)));
  });
  table.add(r, 'get', '/api/admin/api-keys', admin, async (req: Request, res: Response) => {
    const q = parse(listKeysQuerySchema, req.query);
    res.json((await deps.accounts.listApiKeys(actorOf(req), q.organization_id)).map(toApiKey));
  });
  table.add(r, 'delete', '/api/admin/api-keys/:id', admin, async (req: Request, res: Response) => {
    res.json(toApiKey(await deps.accounts.revokeApiKey(actorOf(req), pathId('key', req.params['id']))));
  });
  return r;
}
