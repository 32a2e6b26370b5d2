import { Router, type Request, type Response } from 'express';
import { listRunMessagesQuerySchema, listRunStepsQuerySchema } from '../query-schemas';
import type { AppDeps } from '../deps';
import { actorOf } from '../middleware/auth';
import { parse, pathId } from '../middleware/validate';
import { setNextLink } from '../pagination';
import { toApiMessage, toApiStep } from '../presenters/run';
import type { RouteTable } from '../route-table';

/**
 * What a run recorded (API.md "Runs"): its messages, its steps, one step's messages. Keyset pages like the jobs
 * list (`order`, `limit`, `after`/`before` ids, `Link: rel="next"` on a full page), in conversation order by
 * default. Another organization's run or step is a 404; an id of the wrong shape a 400.
 */
export function runRoutes(deps: AppDeps, table: RouteTable): Router {
  const r = Router();
  table.add(r, 'get', '/api/runs/:id/messages', async (req: Request, res: Response) => {
    const page = parse(listRunMessagesQuerySchema, req.query);
    const messages = await deps.jobs.getRunMessages(actorOf(req), pathId('job', req.params['id']), page);
    if (messages.length === page.limit) setNextLink(req, res, messages[messages.length - 1]!.id);
    res.json(messages.map(toApiMessage));
  });
  table.add(r, 'get', '/api/runs/:id/steps', async (req: Request, res: Response) => {
    const page = parse(listRunStepsQuerySchema, req.query);
    const steps = await deps.jobs.getJobSteps(actorOf(req), pathId('job', req.params['id']), page);
    if (steps.length === page.limit) setNextLink(req, res, steps[steps.length - 1]!.id);
    res.json(steps.map(toApiStep));
  });
  table.add(r, 'get', '/api/steps/:step_id/messages', async (req: Request, res: Response) => {
    const page = parse(listRunMessagesQuerySchema, req.query);
    const messages = await deps.jobs.getStepMessages(actorOf(req), pathId('step', req.params['step_id'], 'step_id'), page);
    if (messages.length === page.limit) setNextLink(req, res, messages[messages.length - 1]!.id);
    res.json(messages.map(toApiMessage));
  });
  return r;
}
